/* The directory: user -> name, mail, tenant, roles through libldap, with a
 * bounded per-child TTL cache. See sd_dir.h for the contract.
 *
 * One LDAP handle per sd_dir_t, shared by the child's threads under one mutex
 * that also guards the cache: a lookup holds it across its LDAP calls, which
 * keeps the handle's single-request use simple and lets a second thread find
 * the entry the first one just fetched. A lookup's LDAP work is bounded by a
 * budget of two timeouts (one attempt, one reconnect and retry), and after a
 * failure the server is left alone for one timeout, so threads queued on the
 * mutex during an outage do not each wait out their own timeouts. */
#include <string.h>
#include <sys/time.h>

#include <apr_allocator.h>
#include <apr_cstr.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#if APR_HAS_THREADS
#include <apr_thread_mutex.h>
#endif

#include <ldap.h>

#include "sd.h"
#include "sd_dir.h"
#include "sd_log.h"

/* Used when the glue hands over no timeout: libldap's own default is
 * infinite, which would hang a child on a silent server. */
#define DEF_TIMEOUT       apr_time_from_sec(2)
/* Below this much budget an LDAP call is not started: a zero timeval means
 * "poll" to libldap, not "wait". */
#define MIN_OP_TIME       APR_TIME_C(10000)
/* The user search asks for two entries: enough to see an ambiguous name. */
#define USER_SIZELIMIT    2
/* Rebuild the cache pool once this many dead copies (replaced or evicted
 * entries) sit in it, or as many as there are live ones if that is more. */
#define MIN_DEAD_REBUILD  64
/* TCP keep-alive: find a half-open connection (a firewall dropped the idle
 * flow) before a request waits on it. */
#define KEEPALIVE_IDLE     60
#define KEEPALIVE_PROBES   3
#define KEEPALIVE_INTERVAL 10

typedef struct {
    const char *scheme;     /* ldap or ldaps */
    const char *host;
    int port;
    const char *base;
    const char *attr;
    int scope;
    const char *filter;
} url_t;

typedef struct {
    const char *key;        /* the user name; lives in the cache pool, as the whole entry */
    sd_user_t user;         /* unused when negative */
    apr_time_t fetched;
    apr_time_t expires;
    int negative;           /* the directory said: no such user (or no tenant) */
} centry_t;

struct sd_dir_t {
    const sd_dir_conf_t *conf;
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
#endif
    const char *uri;        /* scheme://host:port, for ldap_initialize() */
    url_t url;
    char *attrs[6];         /* requested from the user entry */
    apr_interval_time_t timeout;
    int max;                /* cache entries at most; 0: no cache */
    LDAP *ld;               /* bound handle, NULL until needed and after a failure */

    /* Cache pools have their own allocator: they are cleared and refilled
     * while other threads use the child pool's allocator, which has no lock. */
    apr_pool_t *cpool[2];   /* the live pool and the one the next rebuild fills */
    int cur;
    apr_hash_t *cache;      /* user -> centry_t *, in cpool[cur] */
    int count;              /* live entries */
    int dead;               /* copies in cpool[cur] no longer in the hash */

    apr_time_t retry_at;    /* the server failed: do not try again before */
    int down;               /* an outage was logged and is not over */
    int stale_warned;       /* serving stale entries was logged this outage */
    char *missing_agent[SD_TIER_MAX + 1];   /* per group DN: "no such group" logged */
    char *missing_admin;
    sd_dir_stats_t st;
};

/* ---- URL ----------------------------------------------------------------- */

/* Why an RFC 4515 filter fails a quick syntax check, or NULL. libldap offers
 * no public filter parser; structure errors are what typing a filter into a
 * config file produces, so balance and escapes are checked here and slapd
 * judges the rest. */
static const char *filter_why(const char *f, apr_pool_t *p)
{
    const char *s;
    int depth = 0;

    if (f[0] != '(') {
        return apr_psprintf(p, "filter '%s' does not start with '('", f);
    }
    for (s = f; *s; ++s) {
        if (depth == 0 && s != f) {
            return apr_psprintf(p, *s == ')' ? "filter '%s' has an unbalanced ')'"
                                : "filter '%s' has text after its closing ')' "
                                  "(combine filters with (&...))", f);
        }
        if (*s == '\\') {
            if (!apr_isxdigit(s[1]) || !apr_isxdigit(s[2])) {
                return apr_psprintf(p, "filter '%s' has a '\\' not followed by two hex "
                                    "digits (write a literal '(' as \\28, ')' as \\29)", f);
            }
            s += 2;
        }
        else if (*s == '(') {
            if (s[1] == ')') {
                return apr_psprintf(p, "filter '%s' contains an empty '()'", f);
            }
            ++depth;
        }
        else if (*s == ')') {
            --depth;
        }
    }
    if (depth) {
        return apr_psprintf(p, "filter '%s' is missing %d closing ')'", f, depth);
    }
    return NULL;
}

/* An attribute description: a name (letter, then letters, digits, '-') or a
 * numeric OID, with optional ";option"s. */
static int is_attr_name(const char *a)
{
    const char *s;

    if (!apr_isalnum(*a)) return 0;
    for (s = a; *s; ++s) {
        if (!apr_isalnum(*s) && *s != '-' && *s != '.' && *s != ';') return 0;
    }
    return 1;
}

static const char *url_err_why(int lrc)
{
    switch (lrc) {
    case LDAP_URL_ERR_BADSCHEME:    return "the URL does not start with ldap:// or ldaps://";
    case LDAP_URL_ERR_BADENCLOSURE: return "the URL has an unbalanced '<' or '>'";
    case LDAP_URL_ERR_BADURL:       return "the URL is malformed (check the port and the "
                                           "number of '?' fields: base?attribute?scope?filter)";
    case LDAP_URL_ERR_BADHOST:      return "the host part of the URL is malformed";
    case LDAP_URL_ERR_BADATTRS:     return "the attribute field of the URL is malformed";
    case LDAP_URL_ERR_BADFILTER:    return "the filter field of the URL is malformed";
    case LDAP_URL_ERR_BADEXTS:      return "the extensions field of the URL is malformed";
    case LDAP_URL_ERR_MEM:          return "out of memory parsing the URL";
    default:                        return "the URL cannot be parsed";
    }
}

/* The scope field exactly as written, or NULL when the URL has none.
 * ldap_url_parse() reports a missing scope as "base", where AuthLDAPURL (and
 * so we) default to "sub", and says nothing about a bad one. Fields are
 * separated by literal '?': a '?' inside a value is percent-encoded. */
static const char *raw_scope(const char *url, apr_pool_t *p)
{
    const char *s = strstr(url, "://"), *e;

    if (s) s = strchr(s + 3, '/');           /* the DN */
    if (s) s = strchr(s, '?');               /* the attributes */
    if (s) s = strchr(s + 1, '?');           /* the scope */
    if (!s) return NULL;
    ++s;
    e = strchr(s, '?');
    return e ? apr_pstrmemdup(p, s, (apr_size_t)(e - s)) : apr_pstrdup(p, s);
}

static apr_status_t url_parse(url_t *u, const char *url, const char **why, apr_pool_t *p)
{
    LDAPURLDesc *lud = NULL;
    LDAPDN dn = NULL;
    const char *scope, *colon;
    apr_status_t rv = APR_EINVAL;
    int lrc, n;

    memset(u, 0, sizeof(*u));
    *why = NULL;
    if (!url || !*url) {
        *why = "the URL is empty";
        goto leave;
    }
    /* ldap_url_parse() also takes ldapi://, cldap:// and "<URL:...>" forms:
     * accept only what we connect to. */
    if (apr_cstr_casecmpn(url, "ldap://", 7) && apr_cstr_casecmpn(url, "ldaps://", 8)) {
        colon = strstr(url, "://");
        *why = colon ? apr_psprintf(p, "scheme '%.*s' is not supported, use ldap:// or ldaps://",
                                    (int)(colon - url), url)
                     : "the URL does not start with ldap:// or ldaps://";
        goto leave;
    }
    scope = raw_scope(url, p);
    lrc = ldap_url_parse(url, &lud);
    if (lrc == LDAP_URL_ERR_BADSCOPE) {
        *why = apr_psprintf(p, "scope '%s' is not one of base, one, sub", scope ? scope : "");
        goto leave;
    }
    if (lrc != LDAP_URL_SUCCESS) {
        *why = url_err_why(lrc);
        goto leave;
    }

    if (!scope || !*scope || !apr_cstr_casecmp(scope, "sub")
        || !apr_cstr_casecmp(scope, "subtree")) {
        u->scope = LDAP_SCOPE_SUBTREE;
    }
    else if (!apr_cstr_casecmp(scope, "one") || !apr_cstr_casecmp(scope, "onelevel")) {
        u->scope = LDAP_SCOPE_ONELEVEL;
    }
    else if (!apr_cstr_casecmp(scope, "base")) {
        u->scope = LDAP_SCOPE_BASE;
    }
    else {
        /* subordinate and children parse, but AuthLDAPURL knows only these three */
        *why = apr_psprintf(p, "scope '%s' is not one of base, one, sub", scope);
        goto leave;
    }

    if (!lud->lud_host || !*lud->lud_host) {
        *why = "the URL names no host (ldap://host[:port]/base)";
        goto leave;
    }
    if (strpbrk(lud->lud_host, " \t")) {
        *why = apr_psprintf(p, "the URL names more than one host ('%s'); give one", lud->lud_host);
        goto leave;
    }
    if (lud->lud_port < 1 || lud->lud_port > 65535) {
        *why = apr_psprintf(p, "port %d is out of range, expected 1..65535", lud->lud_port);
        goto leave;
    }
    if (!lud->lud_dn || !*lud->lud_dn) {
        *why = "the URL names no base DN (ldap://host/dc=example,dc=org)";
        goto leave;
    }
    if (LDAP_SUCCESS != ldap_str2dn(lud->lud_dn, &dn, LDAP_DN_FORMAT_LDAPV3)) {
        *why = apr_psprintf(p, "base '%s' is not a valid DN", lud->lud_dn);
        goto leave;
    }
    for (n = 0; lud->lud_attrs && lud->lud_attrs[n]; ++n)
        ;
    if (n > 1) {
        *why = apr_psprintf(p, "the URL names %d attributes; give one, the attribute "
                            "that holds the user name", n);
        goto leave;
    }
    u->attr = n ? apr_pstrdup(p, lud->lud_attrs[0]) : "uid";
    if (!is_attr_name(u->attr)) {
        *why = apr_psprintf(p, "attribute '%s' is not an attribute name", u->attr);
        goto leave;
    }
    u->filter = (lud->lud_filter && *lud->lud_filter) ? apr_pstrdup(p, lud->lud_filter)
                                                       : "(objectClass=*)";
    if ((*why = filter_why(u->filter, p))) goto leave;
    if (lud->lud_crit_exts) {
        *why = "the URL has a critical extension ('!'), which is not supported";
        goto leave;
    }
    u->scheme = apr_pstrdup(p, lud->lud_scheme);
    u->host = apr_pstrdup(p, lud->lud_host);
    u->port = lud->lud_port;
    u->base = apr_pstrdup(p, lud->lud_dn);
    rv = APR_SUCCESS;
leave:
    if (dn) ldap_dnfree(dn);
    if (lud) ldap_free_urldesc(lud);
    return rv;
}

apr_status_t sd_dir_url_check(const char *url, const char **why, apr_pool_t *p)
{
    url_t u;

    return url_parse(&u, url, why, p);
}

/* ---- small LDAP helpers -------------------------------------------------- */

const char *sd_dir_escape_filter(const char *value, apr_pool_t *p)
{
    struct berval in, out = { 0, NULL };
    const char *esc = NULL;

    if (!value) return NULL;
    in.bv_val = (char *)value;
    in.bv_len = strlen(value);
    if (in.bv_len == 0) {
        /* libldap hands back no buffer for an empty value */
        esc = "";
    }
    else if (0 == ldap_bv2escaped_filter_value(&in, &out) && out.bv_val) {
        esc = apr_pstrmemdup(p, out.bv_val, out.bv_len);
    }
    if (out.bv_val) ldap_memfree(out.bv_val);
    return esc;
}

static int is_transport_error(int lrc)
{
    return lrc == LDAP_SERVER_DOWN || lrc == LDAP_TIMEOUT || lrc == LDAP_CONNECT_ERROR;
}

static apr_status_t msg_cleanup(void *msg)
{
    ldap_msgfree(msg);
    return APR_SUCCESS;
}

/* The time left of a lookup's budget, at most one timeout; 0 when spent. */
static int op_timeval(struct timeval *tv, const sd_dir_t *d, apr_time_t deadline)
{
    apr_interval_time_t left = deadline - apr_time_now();

    if (left > d->timeout) left = d->timeout;
    if (left < MIN_OP_TIME) return 0;
    tv->tv_sec = (time_t)apr_time_sec(left);
    tv->tv_usec = (suseconds_t)apr_time_usec(left);
    return 1;
}

static void conn_drop(sd_dir_t *d)
{
    if (d->ld) {
        ldap_unbind_ext(d->ld, NULL, NULL);
        d->ld = NULL;
    }
}

static apr_status_t dir_cleanup(void *baton)
{
    conn_drop(baton);
    return APR_SUCCESS;
}

/* Connect and bind; on success d->ld is set. Returns an LDAP result code. */
static int conn_open(sd_dir_t *d, apr_time_t deadline, apr_pool_t *p)
{
    LDAP *ld = NULL;
    struct timeval tv;
    struct berval cred;
    int lrc, version = LDAP_VERSION3, sizelimit = USER_SIZELIMIT;
    int ka_idle = KEEPALIVE_IDLE, ka_probes = KEEPALIVE_PROBES, ka_interval = KEEPALIVE_INTERVAL;

    if (!op_timeval(&tv, d, deadline)) {
        lrc = LDAP_TIMEOUT;
        goto leave;
    }
    if (LDAP_SUCCESS != (lrc = ldap_initialize(&ld, d->uri))) {
        sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00033) "directory %s: cannot create a "
               "handle: %s (%d)", d->uri, ldap_err2string(lrc), lrc);
        goto leave;
    }
    /* Both timeouts matter: the network one bounds connect() to a dropped
     * port, the API one (also used by the bind below) a server that accepts
     * and never answers. A handle without them could hang forever. */
    if (LDAP_OPT_SUCCESS != ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        || LDAP_OPT_SUCCESS != ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv)
        || LDAP_OPT_SUCCESS != ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv)
        || LDAP_OPT_SUCCESS != ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)
        || LDAP_OPT_SUCCESS != ldap_set_option(ld, LDAP_OPT_SIZELIMIT, &sizelimit)) {
        lrc = LDAP_LOCAL_ERROR;
        sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00034) "directory %s: cannot set the "
               "protocol version, timeouts or limits on the handle", d->uri);
        goto leave;
    }
    /* Keep-alive is a refinement: not every platform has it. */
#ifdef LDAP_OPT_X_KEEPALIVE_IDLE
    (void)ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &ka_idle);
    (void)ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &ka_probes);
    (void)ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &ka_interval);
#else
    (void)ka_idle; (void)ka_probes; (void)ka_interval;
#endif
    cred.bv_val = (char *)(d->conf->bind_pw ? d->conf->bind_pw : "");
    cred.bv_len = strlen(cred.bv_val);
    lrc = ldap_sasl_bind_s(ld, d->conf->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (lrc != LDAP_SUCCESS && !is_transport_error(lrc)) {
        /* The server answered and refused us: configuration, not an outage. */
        sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00035) "directory %s: bind as %s "
               "failed: %s (%d)", d->uri, d->conf->bind_dn ? d->conf->bind_dn : "anonymous",
               ldap_err2string(lrc), lrc);
    }
leave:
    if (lrc == LDAP_SUCCESS) {
        d->ld = ld;
    }
    else if (ld) {
        ldap_unbind_ext(ld, NULL, NULL);
    }
    return lrc;
}

/* One search on the shared handle. *pres, when set, belongs to p (libldap
 * may hand back a result even with an error code). */
static int search(LDAPMessage **pres, sd_dir_t *d, const char *base, int scope,
                  const char *filter, char **attrs, int sizelimit, apr_time_t deadline,
                  apr_pool_t *p)
{
    LDAPMessage *res = NULL;
    struct timeval tv;
    int lrc;

    *pres = NULL;
    if (!op_timeval(&tv, d, deadline)) return LDAP_TIMEOUT;
    lrc = ldap_search_ext_s(d->ld, base, scope, filter, attrs, 0, NULL, NULL, &tv,
                            sizelimit, &res);
    if (res) {
        apr_pool_cleanup_register(p, res, msg_cleanup, apr_pool_cleanup_null);
        *pres = res;
    }
    return lrc;
}

/* The first non-empty value of attr in p, or NULL. A value with a NUL byte
 * cannot be a C string and is skipped. */
static const char *first_value(LDAP *ld, LDAPMessage *entry, const char *attr, apr_pool_t *p)
{
    struct berval **vals;
    const char *v = NULL;
    int i;

    if (!attr) return NULL;
    vals = ldap_get_values_len(ld, entry, attr);
    for (i = 0; vals && vals[i] && !v; ++i) {
        if (vals[i]->bv_len && !memchr(vals[i]->bv_val, 0, vals[i]->bv_len)) {
            v = apr_pstrmemdup(p, vals[i]->bv_val, vals[i]->bv_len);
        }
    }
    if (vals) ldap_value_free_len(vals);
    return v;
}

/* The value of attr that the search matched: equal to name but for case
 * (the usual matching rule), as the entry spells it; NULL if none is. */
static const char *spelled_value(LDAP *ld, LDAPMessage *entry, const char *attr,
                                 const char *name, apr_pool_t *p)
{
    struct berval **vals = ldap_get_values_len(ld, entry, attr);
    apr_size_t len = strlen(name);
    const char *v = NULL;
    int i;

    for (i = 0; vals && vals[i] && !v; ++i) {
        if (vals[i]->bv_len == len && !apr_cstr_casecmpn(vals[i]->bv_val, name, len)) {
            v = apr_pstrmemdup(p, vals[i]->bv_val, vals[i]->bv_len);
        }
    }
    if (vals) ldap_value_free_len(vals);
    return v;
}

static const char *entry_dn(LDAP *ld, LDAPMessage *entry, apr_pool_t *p)
{
    char *dn = ldap_get_dn(ld, entry);
    const char *copy = dn ? apr_pstrdup(p, dn) : NULL;

    if (dn) ldap_memfree(dn);
    return copy;
}

static int is_org_type(const struct berval *a)
{
    static const char *const names[] = { "o", "organizationName", "2.5.4.10" };
    apr_size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        if (a->bv_len == strlen(names[i]) && !apr_cstr_casecmpn(a->bv_val, names[i], a->bv_len)) {
            return 1;
        }
    }
    return 0;
}

/* The value of the leftmost o= in dn (the organisation the entry sits in),
 * or NULL. ldap_str2dn() gets escaped commas and multi-valued RDNs right. */
static const char *dn_org(const char *dn, apr_pool_t *p)
{
    LDAPDN ldn = NULL;
    const char *org = NULL;
    int i, j;

    if (LDAP_SUCCESS != ldap_str2dn(dn, &ldn, LDAP_DN_FORMAT_LDAPV3)) goto leave;
    for (i = 0; ldn && ldn[i] && !org; ++i) {
        for (j = 0; ldn[i][j] && !org; ++j) {
            const LDAPAVA *ava = ldn[i][j];
            /* a #hex value is BER, not a name */
            if ((ava->la_flags & LDAP_AVA_BINARY) || !ava->la_value.bv_len
                || memchr(ava->la_value.bv_val, 0, ava->la_value.bv_len)) {
                continue;
            }
            if (is_org_type(&ava->la_attr)) {
                org = apr_pstrmemdup(p, ava->la_value.bv_val, ava->la_value.bv_len);
            }
        }
    }
leave:
    if (ldn) ldap_dnfree(ldn);
    return org;
}

/* ---- lookup against the server ------------------------------------------- */

/* Is the user (filter already built) a member of group? A group that does
 * not exist has no members. */
static apr_status_t group_has(int *pmember, int *plrc, sd_dir_t *d, const char *group,
                              const char *filter, char *logged, apr_time_t deadline,
                              apr_pool_t *scratch, apr_pool_t *p)
{
    static char no_attrs_oid[] = LDAP_NO_ATTRS;
    char *no_attrs[] = { no_attrs_oid, NULL };
    LDAPMessage *res = NULL;
    apr_status_t rv = APR_SUCCESS;
    int lrc;

    *pmember = 0;
    lrc = search(&res, d, group, LDAP_SCOPE_BASE, filter, no_attrs, 1, deadline, scratch);
    switch (lrc) {
    case LDAP_SUCCESS:
    case LDAP_SIZELIMIT_EXCEEDED:
        *pmember = res && ldap_count_entries(d->ld, res) > 0;
        lrc = LDAP_SUCCESS;
        break;
    case LDAP_NO_SUCH_OBJECT:
        if (!*logged) {
            sd_log(SD_LOG_MARK, SD_LOG_DEBUG, 0, p, SDLOGNO(00036) "group %s does not exist "
                   "in the directory: it has no members", group);
            *logged = 1;
        }
        lrc = LDAP_SUCCESS;
        break;
    case LDAP_INVALID_DN_SYNTAX:
        if (!*logged) {
            sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00037) "group '%s' is not a valid "
                   "DN for the directory: it has no members", group);
            *logged = 1;
        }
        lrc = LDAP_SUCCESS;
        break;
    default:
        if (!is_transport_error(lrc)) {
            sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00038) "directory %s: membership "
                   "search in %s failed: %s (%d)", d->uri, group, ldap_err2string(lrc), lrc);
        }
        rv = SD_EUNAVAILABLE;
        break;
    }
    if (res) apr_pool_cleanup_run(scratch, res, msg_cleanup);
    *plrc = lrc;
    return rv;
}

/* Roles from group membership. uid is the entry's own user name for
 * memberUid, which matches case-exactly where the login name may not. */
static apr_status_t roles_fetch(sd_user_t *u, int *plrc, sd_dir_t *d, const char *uid,
                                apr_time_t deadline, apr_pool_t *scratch, apr_pool_t *p)
{
    const apr_array_header_t *groups;
    const char *edn, *euser, *filter;
    apr_status_t rv = APR_SUCCESS;
    int t, i, member;

    u->roles = SD_ROLE_REPORTER;
    u->tiers = 0;
    edn = sd_dir_escape_filter(u->dn, scratch);
    euser = sd_dir_escape_filter(uid, scratch);
    if (!edn || !euser) {
        rv = APR_ENOMEM;
        goto leave;
    }
    /* groupOfNames, groupOfUniqueNames and posixGroup alike; an attribute a
     * server does not know makes its term undefined, not the filter false. */
    filter = apr_pstrcat(scratch, "(|(member=", edn, ")(uniqueMember=", edn,
                         ")(memberUid=", euser, "))", NULL);
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
        groups = d->conf->agent_groups[t];
        for (i = 0; groups && i < groups->nelts && !(u->tiers & (1 << t)); ++i) {
            rv = group_has(&member, plrc, d, APR_ARRAY_IDX(groups, i, const char *), filter,
                           &d->missing_agent[t][i], deadline, scratch, p);
            if (APR_SUCCESS != rv) goto leave;
            if (member) {
                u->tiers |= 1 << t;
                u->roles |= SD_ROLE_AGENT;
            }
        }
    }
    groups = d->conf->admin_groups;
    for (i = 0; groups && i < groups->nelts && !(u->roles & SD_ROLE_ADMIN); ++i) {
        rv = group_has(&member, plrc, d, APR_ARRAY_IDX(groups, i, const char *), filter,
                       &d->missing_admin[i], deadline, scratch, p);
        if (APR_SUCCESS != rv) goto leave;
        if (member) u->roles |= SD_ROLE_ADMIN;
    }
leave:
    return rv;
}

/* DN, name, mail and tenant of a user entry into u (u->user set by the
 * caller: the name falls back to it). 0 when the DN cannot be read. */
static int entry_user(sd_user_t *u, sd_dir_t *d, LDAPMessage *entry, apr_pool_t *p)
{
    if (!(u->dn = entry_dn(d->ld, entry, p))) return 0;
    if (d->conf->name_attr) {
        u->name = first_value(d->ld, entry, d->conf->name_attr, p);
    }
    else if (!(u->name = first_value(d->ld, entry, "displayName", p))) {
        u->name = first_value(d->ld, entry, "cn", p);
    }
    if (!u->name) u->name = u->user;
    u->email = first_value(d->ld, entry, d->conf->mail_attr ? d->conf->mail_attr : "mail", p);
    /* A set tenant attribute that is missing is not replaced by the DN's o=:
     * guessing a tenant could put a user into the wrong one. */
    u->tenant = d->conf->tenant_attr ? first_value(d->ld, entry, d->conf->tenant_attr, p)
                                     : dn_org(u->dn, p);
    return 1;
}

/* One attempt: connect if needed, find the entry, read it, check groups.
 * SD_EUNAVAILABLE comes with the LDAP code in *plrc, so the caller can tell
 * an outage (reconnect and retry) from a refusal. u is allocated in p. */
static apr_status_t fetch_once(sd_user_t **pu, int *plrc, sd_dir_t *d, const char *user,
                               apr_time_t deadline, apr_pool_t *scratch, apr_pool_t *p)
{
    sd_user_t *u = NULL;
    LDAPMessage *res = NULL, *entry;
    const char *esc, *filter, *uid;
    apr_status_t rv = SD_EUNAVAILABLE;
    int lrc = LDAP_SUCCESS, n;

    if (!d->ld && LDAP_SUCCESS != (lrc = conn_open(d, deadline, p))) goto leave;

    if (!(esc = sd_dir_escape_filter(user, scratch))) {
        rv = APR_ENOMEM;
        goto leave;
    }
    filter = apr_pstrcat(scratch, "(&", d->url.filter, "(", d->url.attr, "=", esc, "))", NULL);
    lrc = search(&res, d, d->url.base, d->url.scope, filter, d->attrs, USER_SIZELIMIT,
                 deadline, scratch);
    if (lrc == LDAP_NO_SUCH_OBJECT) {
        sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00039) "directory %s: search base %s "
               "does not exist, or the bind account may not read it", d->uri, d->url.base);
        goto leave;
    }
    if (lrc != LDAP_SUCCESS && lrc != LDAP_SIZELIMIT_EXCEEDED) {
        if (!is_transport_error(lrc)) {
            sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00040) "directory %s: user search "
                   "under %s failed: %s (%d)", d->uri, d->url.base, ldap_err2string(lrc), lrc);
        }
        goto leave;
    }
    /* A size limit hit means more entries than we asked for, whatever limit
     * the server applied. */
    n = res ? ldap_count_entries(d->ld, res) : 0;
    if (n > 1 || lrc == LDAP_SIZELIMIT_EXCEEDED) {
        sd_log(SD_LOG_MARK, SD_LOG_WARNING, 0, p, SDLOGNO(00041) "directory: user %s matches "
               "more than one entry under %s; treated as unknown", user, d->url.base);
        lrc = LDAP_SUCCESS;
        rv = SD_ENOUSER;
        goto leave;
    }
    lrc = LDAP_SUCCESS;
    if (n <= 0 || !(entry = ldap_first_entry(d->ld, res))) {
        rv = SD_ENOUSER;
        goto leave;
    }

    u = apr_pcalloc(p, sizeof(*u));
    u->user = apr_pstrdup(p, user);
    if (!entry_user(u, d, entry, p)) {
        lrc = LDAP_DECODING_ERROR;
        sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00042) "directory %s: cannot read the "
               "DN of user %s's entry", d->uri, user);
        goto leave;
    }
    if (!u->tenant) {
        sd_log(SD_LOG_MARK, SD_LOG_WARNING, 0, p, SDLOGNO(00043) "directory: entry %s of user "
               "%s has no tenant (%s); treated as unknown", u->dn, user,
               d->conf->tenant_attr ? apr_pstrcat(p, "no ", d->conf->tenant_attr, " value", NULL)
                                    : "no o= in its DN");
        rv = SD_ENOUSER;
        goto leave;
    }
    uid = spelled_value(d->ld, entry, d->url.attr, user, scratch);
    /* The entry's own spelling names the user everywhere (tickets, queues),
     * whatever case or blanks the login or an assignment was typed with. */
    if (uid) u->user = apr_pstrdup(p, uid);
    if (res) {
        apr_pool_cleanup_run(scratch, res, msg_cleanup);
        res = NULL;
    }
    rv = roles_fetch(u, &lrc, d, uid ? uid : user, deadline, scratch, p);
leave:
    *plrc = lrc;
    if (APR_SUCCESS == rv) *pu = u;
    return rv;
}

/* Ask the server, reconnecting and retrying once after a transport error.
 * Everything libldap allocates lives in a scratch pool gone on return. */
static apr_status_t fetch(sd_user_t **pu, int *plrc, sd_dir_t *d, const char *user,
                          apr_pool_t *p)
{
    apr_pool_t *scratch = NULL;
    apr_time_t deadline = apr_time_now() + 2 * d->timeout;
    apr_status_t rv;
    int attempt, lrc = LDAP_SUCCESS;

    *pu = NULL;
    if (APR_SUCCESS != (rv = apr_pool_create(&scratch, p))) goto leave;
    for (attempt = 0; attempt < 2; ++attempt) {
        lrc = LDAP_SUCCESS;
        rv = fetch_once(pu, &lrc, d, user, deadline, scratch, p);
        if (SD_EUNAVAILABLE != rv) break;
        if (!is_transport_error(lrc)) break;
        /* After these libldap refuses to wait on the handle again: a fresh
         * connection is the only way on (the server may have restarted). */
        conn_drop(d);
        if (attempt == 0) {
            sd_log(SD_LOG_MARK, SD_LOG_DEBUG, 0, p, SDLOGNO(00044) "directory %s: %s (%d), "
                   "reconnecting", d->uri, ldap_err2string(lrc), lrc);
        }
    }
leave:
    if (scratch) apr_pool_destroy(scratch);
    *plrc = lrc;
    return rv;
}

/* ---- agents of a tier ------------------------------------------------------ */

/* Group members read per group at most: a bound on background work. */
#define MAX_MEMBERS 1000

typedef struct {
    apr_array_header_t *out;     /* sd_user_t */
    apr_hash_t *seen;            /* DNs already added */
    const char *tenant;
    const char *filter;          /* a user entry of the tenant (url filter + tenant) */
    int tier;
    apr_time_t deadline;
} agents_t;

/* Add the entries of res that belong to the tenant. */
static void agents_take(agents_t *a, sd_dir_t *d, LDAPMessage *res, apr_pool_t *p)
{
    LDAPMessage *e;
    for (e = ldap_first_entry(d->ld, res); e; e = ldap_next_entry(d->ld, e)) {
        sd_user_t u;
        memset(&u, 0, sizeof(u));
        if (!(u.user = first_value(d->ld, e, d->url.attr, p))) continue;
        if (!entry_user(&u, d, e, p) || !u.tenant || strcmp(u.tenant, a->tenant)) continue;
        if (apr_hash_get(a->seen, u.dn, APR_HASH_KEY_STRING)) continue;
        apr_hash_set(a->seen, u.dn, APR_HASH_KEY_STRING, u.dn);
        u.roles = SD_ROLE_REPORTER | SD_ROLE_AGENT;
        u.tiers = 1 << a->tier;
        APR_ARRAY_PUSH(a->out, sd_user_t) = u;
    }
}

/* One member value: a DN (member, uniqueMember) is read as a base object; a
 * user name (memberUid) is searched for, escaped, like a login. Returns an
 * LDAP result code; entries that are gone or not users are skipped. */
static int agents_member(agents_t *a, sd_dir_t *d, const char *value, int is_dn,
                         apr_pool_t *scratch, apr_pool_t *p)
{
    LDAPMessage *res = NULL;
    const char *esc;
    int lrc;

    if (is_dn) {
        lrc = search(&res, d, value, LDAP_SCOPE_BASE, a->filter, d->attrs, 1, a->deadline,
                     scratch);
    }
    else {
        if (!(esc = sd_dir_escape_filter(value, scratch))) return LDAP_NO_MEMORY;
        lrc = search(&res, d, d->url.base, d->url.scope,
                     apr_pstrcat(scratch, "(&", a->filter, "(", d->url.attr, "=", esc, "))",
                                 NULL),
                     d->attrs, USER_SIZELIMIT, a->deadline, scratch);
    }
    if (res && (lrc == LDAP_SUCCESS || lrc == LDAP_SIZELIMIT_EXCEEDED)) agents_take(a, d, res, p);
    if (res) apr_pool_cleanup_run(scratch, res, msg_cleanup);
    if (lrc == LDAP_NO_SUCH_OBJECT || lrc == LDAP_INVALID_DN_SYNTAX
        || lrc == LDAP_SIZELIMIT_EXCEEDED)
        return LDAP_SUCCESS;
    return lrc;
}

/* The members of one group. A group that does not exist has none. */
static int agents_group(agents_t *a, sd_dir_t *d, const char *group, apr_pool_t *scratch,
                        apr_pool_t *p)
{
    static char a_member[] = "member", a_unique[] = "uniqueMember", a_uid[] = "memberUid";
    char *attrs[] = { a_member, a_unique, a_uid, NULL };
    LDAPMessage *res = NULL, *e;
    int lrc, i, j, n = 0;

    lrc = search(&res, d, group, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, a->deadline,
                 scratch);
    if (lrc == LDAP_NO_SUCH_OBJECT || lrc == LDAP_INVALID_DN_SYNTAX) lrc = LDAP_SUCCESS;
    e = (lrc == LDAP_SUCCESS && res) ? ldap_first_entry(d->ld, res) : NULL;
    for (i = 0; e && attrs[i] && lrc == LDAP_SUCCESS; ++i) {
        struct berval **vals = ldap_get_values_len(d->ld, e, attrs[i]);
        for (j = 0; vals && vals[j] && lrc == LDAP_SUCCESS && n < MAX_MEMBERS; ++j, ++n) {
            char *v;
            if (!vals[j]->bv_len || memchr(vals[j]->bv_val, 0, vals[j]->bv_len)) continue;
            v = apr_pstrmemdup(scratch, vals[j]->bv_val, vals[j]->bv_len);
            if (i == 1) {            /* uniqueMember: "dn#'0101'B" may carry a UID */
                char *hash = strrchr(v, '#');
                if (hash && hash[1] == '\'') *hash = '\0';
            }
            lrc = agents_member(a, d, v, i < 2, scratch, p);
        }
        if (vals) ldap_value_free_len(vals);
    }
    if (res) apr_pool_cleanup_run(scratch, res, msg_cleanup);
    return lrc;
}

/* ---- cache ----------------------------------------------------------------- */

static void user_copy_into(sd_user_t *dst, const sd_user_t *src, apr_pool_t *p)
{
    dst->user = apr_pstrdup(p, src->user);
    dst->dn = apr_pstrdup(p, src->dn);
    dst->name = apr_pstrdup(p, src->name);
    dst->email = apr_pstrdup(p, src->email);
    dst->tenant = apr_pstrdup(p, src->tenant);
    dst->roles = src->roles;
    dst->tiers = src->tiers;
}

static sd_user_t *user_copy(const sd_user_t *src, apr_pool_t *p)
{
    sd_user_t *u = apr_palloc(p, sizeof(*u));

    user_copy_into(u, src, p);
    return u;
}

static void cache_drop(sd_dir_t *d, centry_t *e)
{
    apr_hash_set(d->cache, e->key, APR_HASH_KEY_STRING, NULL);
    d->count--;
    d->dead++;
}

/* Copy the live entries into the spare pool and clear the old one: the only
 * way memory of replaced and evicted entries comes back, and what keeps the
 * cache from growing with every refresh. Amortised: it runs after at least
 * max(live, MIN_DEAD_REBUILD) dead copies. */
static void cache_rebuild(sd_dir_t *d)
{
    apr_pool_t *np = d->cpool[!d->cur];
    apr_hash_t *nh;
    apr_hash_index_t *hi;

    apr_pool_clear(np);
    nh = apr_hash_make(np);
    for (hi = apr_hash_first(NULL, d->cache); hi; hi = apr_hash_next(hi)) {
        const centry_t *e = apr_hash_this_val(hi);
        centry_t *c = apr_pmemdup(np, e, sizeof(*e));

        c->key = apr_pstrdup(np, e->key);
        if (!e->negative) user_copy_into(&c->user, &e->user, np);
        apr_hash_set(nh, c->key, APR_HASH_KEY_STRING, c);
    }
    apr_pool_clear(d->cpool[d->cur]);
    d->cache = nh;
    d->cur = !d->cur;
    d->dead = 0;
}

/* Make room for one entry: expired ones go first (they would only serve
 * during an outage), then, if that is not enough, an arbitrary eighth of the
 * cache, so a full cache of fresh entries does not pay a scan per insert. */
static void cache_make_room(sd_dir_t *d, apr_time_t now)
{
    apr_hash_index_t *hi;
    int target = d->max - (d->max / 8 > 0 ? d->max / 8 : 1);

    /* apr_hash allows deleting the current entry while iterating */
    for (hi = apr_hash_first(NULL, d->cache); hi; hi = apr_hash_next(hi)) {
        centry_t *e = apr_hash_this_val(hi);
        if (e->expires <= now) cache_drop(d, e);
    }
    for (hi = apr_hash_first(NULL, d->cache); hi && d->count > target; hi = apr_hash_next(hi)) {
        cache_drop(d, apr_hash_this_val(hi));
    }
}

/* Remember an answer: u, or "no such user" when u is NULL. */
static void cache_put(sd_dir_t *d, const char *user, const sd_user_t *u, apr_time_t now)
{
    apr_pool_t *cp;
    centry_t *e;

    if (d->max <= 0) return;
    if ((e = apr_hash_get(d->cache, user, APR_HASH_KEY_STRING))) {
        cache_drop(d, e);
    }
    else if (d->count >= d->max) {
        cache_make_room(d, now);
    }
    if (d->dead >= (d->count > MIN_DEAD_REBUILD ? d->count : MIN_DEAD_REBUILD)) {
        cache_rebuild(d);
    }
    cp = d->cpool[d->cur];
    e = apr_pcalloc(cp, sizeof(*e));
    e->key = apr_pstrdup(cp, user);
    e->fetched = now;
    e->negative = (u == NULL);
    e->expires = now + (u ? d->conf->cache_ttl : d->conf->negative_ttl);
    if (u) user_copy_into(&e->user, u, cp);
    apr_hash_set(d->cache, e->key, APR_HASH_KEY_STRING, e);
    d->count++;
}

/* ---- public ---------------------------------------------------------------- */

static apr_status_t dir_lock(sd_dir_t *d)
{
#if APR_HAS_THREADS
    return apr_thread_mutex_lock(d->mutex);
#else
    (void)d;
    return APR_SUCCESS;
#endif
}

static void dir_unlock(sd_dir_t *d)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(d->mutex);
#else
    (void)d;
#endif
}

apr_status_t sd_dir_create(sd_dir_t **pd, const sd_dir_conf_t *conf, apr_pool_t *pool)
{
    sd_dir_t *d = NULL;
    apr_allocator_t *alloc = NULL;
    apr_pool_t *croot = NULL;
    const char *why, *host;
    apr_status_t rv = APR_EINVAL;
    int n = 0, t, ngroups;

    *pd = NULL;
    if (!conf) goto leave;
    d = apr_pcalloc(pool, sizeof(*d));
    d->conf = conf;
    if (APR_SUCCESS != (rv = url_parse(&d->url, conf->url, &why, pool))) {
        sd_log(SD_LOG_MARK, SD_LOG_ERR, rv, pool, SDLOGNO(00045) "directory URL %s: %s",
               conf->url ? conf->url : "(none)", why);
        goto leave;
    }
    host = strchr(d->url.host, ':') ? apr_pstrcat(pool, "[", d->url.host, "]", NULL)
                                    : d->url.host;
    d->uri = apr_psprintf(pool, "%s://%s:%d", d->url.scheme, host, d->url.port);
    d->timeout = conf->timeout > 0 ? conf->timeout : DEF_TIMEOUT;
    d->max = conf->cache_max > 0 ? conf->cache_max : 0;

    if (conf->name_attr) {
        d->attrs[n++] = apr_pstrdup(pool, conf->name_attr);
    }
    else {
        d->attrs[n++] = apr_pstrdup(pool, "displayName");
        d->attrs[n++] = apr_pstrdup(pool, "cn");
    }
    d->attrs[n++] = apr_pstrdup(pool, conf->mail_attr ? conf->mail_attr : "mail");
    if (conf->tenant_attr) d->attrs[n++] = apr_pstrdup(pool, conf->tenant_attr);
    d->attrs[n++] = apr_pstrdup(pool, d->url.attr);
    d->attrs[n] = NULL;

    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
        ngroups = conf->agent_groups[t] ? conf->agent_groups[t]->nelts : 0;
        d->missing_agent[t] = apr_pcalloc(pool, (apr_size_t)ngroups + 1);
    }
    ngroups = conf->admin_groups ? conf->admin_groups->nelts : 0;
    d->missing_admin = apr_pcalloc(pool, (apr_size_t)ngroups + 1);

#if APR_HAS_THREADS
    if (APR_SUCCESS != (rv = apr_thread_mutex_create(&d->mutex, APR_THREAD_MUTEX_DEFAULT,
                                                     pool))) {
        goto leave;
    }
#endif
    if (APR_SUCCESS != (rv = apr_allocator_create(&alloc))) goto leave;
    if (APR_SUCCESS != (rv = apr_pool_create_ex(&croot, pool, NULL, alloc))) {
        apr_allocator_destroy(alloc);
        goto leave;
    }
    apr_allocator_owner_set(alloc, croot);
    apr_pool_tag(croot, "sd_dir_cache");
    if (APR_SUCCESS != (rv = apr_pool_create(&d->cpool[0], croot))
        || APR_SUCCESS != (rv = apr_pool_create(&d->cpool[1], croot))) {
        goto leave;
    }
    d->cache = apr_hash_make(d->cpool[0]);
    apr_pool_cleanup_register(pool, d, dir_cleanup, apr_pool_cleanup_null);
leave:
    if (APR_SUCCESS == rv) *pd = d;
    return rv;
}

apr_status_t sd_dir_lookup(sd_user_t **pu, sd_dir_t *d, const char *user, apr_pool_t *p)
{
    sd_user_t *u = NULL;
    centry_t *e;
    apr_time_t now;
    apr_status_t rv;
    int locked = 0, asked = 0, lrc = LDAP_SUCCESS;

    *pu = NULL;
    if (!user || !*user) {
        rv = SD_ENOUSER;
        goto leave;
    }
    if (APR_SUCCESS != (rv = dir_lock(d))) goto leave;
    locked = 1;
    now = apr_time_now();
    e = apr_hash_get(d->cache, user, APR_HASH_KEY_STRING);
    if (e && now < e->expires) {
        d->st.hits++;
        rv = e->negative ? SD_ENOUSER : APR_SUCCESS;
        if (!e->negative) u = user_copy(&e->user, p);
        goto leave;
    }

    d->st.misses++;
    if (now < d->retry_at) {
        /* Failed a moment ago: answer at once rather than queue every thread
         * behind its own timeouts. */
        rv = SD_EUNAVAILABLE;
    }
    else {
        rv = fetch(&u, &lrc, d, user, p);
        asked = 1;
    }

    if (APR_SUCCESS == rv || SD_ENOUSER == rv) {
        if (d->down) {
            sd_log(SD_LOG_MARK, SD_LOG_INFO, 0, p, SDLOGNO(00046) "directory %s answers again",
                   d->uri);
            d->down = d->stale_warned = 0;
        }
        /* e is not used past this point: cache_put may move or drop it */
        cache_put(d, user, APR_SUCCESS == rv ? u : NULL, now);
        if (APR_SUCCESS == rv) {
            sd_log(SD_LOG_MARK, SD_LOG_DEBUG, 0, p, SDLOGNO(00047) "directory: %s is %s, "
                   "tenant %s, roles 0x%x, tiers 0x%x", user, u->dn, u->tenant, u->roles,
                   u->tiers);
        }
    }
    else if (SD_EUNAVAILABLE == rv) {
        if (asked) {
            d->retry_at = apr_time_now() + d->timeout;
            if (!d->down) {
                sd_log(SD_LOG_MARK, SD_LOG_WARNING, rv, p, SDLOGNO(00048) "directory %s "
                       "unavailable: %s (%d); serving cached entries while it lasts",
                       d->uri, ldap_err2string(lrc), lrc);
                d->down = 1;
            }
        }
        /* A stale "no such user" is not served: the user may have been added
         * since, and 503 makes the client try again. */
        if (e && !e->negative) {
            d->st.stale++;
            u = user_copy(&e->user, p);
            if (!d->stale_warned) {
                sd_log(SD_LOG_MARK, SD_LOG_WARNING, 0, p, SDLOGNO(00049) "directory %s "
                       "unavailable: serving cached entries past their lifetime (first: %s, "
                       "fetched %" APR_TIME_T_FMT " s ago)", d->uri, user,
                       apr_time_sec(now - e->fetched));
                d->stale_warned = 1;
            }
            rv = APR_SUCCESS;
        }
    }
leave:
    if (locked) dir_unlock(d);
    if (APR_SUCCESS == rv) *pu = u;
    return rv;
}

void sd_dir_stats(sd_dir_stats_t *st, sd_dir_t *d)
{
    int locked = (APR_SUCCESS == dir_lock(d));

    *st = d->st;
    st->entries = (apr_uint64_t)d->count;
    if (locked) dir_unlock(d);
}

apr_status_t sd_dir_tier_agents(apr_array_header_t **pagents, sd_dir_t *d, const char *tenant,
                                int tier, apr_pool_t *p)
{
    const apr_array_header_t *groups;
    apr_pool_t *scratch = NULL;
    apr_status_t rv = SD_EUNAVAILABLE;
    agents_t a;
    int attempt, i, lrc = LDAP_SUCCESS, locked = 0;

    *pagents = NULL;
    if (tier < SD_TIER_MIN || tier > SD_TIER_MAX || !tenant) return APR_EINVAL;
    groups = d->conf->agent_groups[tier];
    memset(&a, 0, sizeof(a));
    a.tenant = tenant;
    a.tier = tier;
    if (APR_SUCCESS != (rv = apr_pool_create(&scratch, p))) return rv;
    a.filter = d->url.filter;
    if (d->conf->tenant_attr) {
        const char *esc = sd_dir_escape_filter(tenant, scratch);
        if (!esc) {
            rv = APR_ENOMEM;
            goto leave;
        }
        a.filter = apr_pstrcat(p, "(&", d->url.filter, "(", d->conf->tenant_attr, "=", esc, "))",
                               NULL);
    }
    if (APR_SUCCESS != (rv = dir_lock(d))) goto leave;
    locked = 1;
    /* background work: a budget of a few timeouts, one reconnect */
    a.deadline = apr_time_now() + 4 * d->timeout;
    for (attempt = 0; attempt < 2; ++attempt) {
        a.out = apr_array_make(p, 8, sizeof(sd_user_t));
        a.seen = apr_hash_make(scratch);
        lrc = d->ld ? LDAP_SUCCESS : conn_open(d, a.deadline, p);
        for (i = 0; groups && i < groups->nelts && lrc == LDAP_SUCCESS; ++i)
            lrc = agents_group(&a, d, APR_ARRAY_IDX(groups, i, const char *), scratch, p);
        if (lrc == LDAP_SUCCESS || !is_transport_error(lrc)) break;
        conn_drop(d);
    }
    if (lrc == LDAP_SUCCESS) {
        rv = APR_SUCCESS;
        *pagents = a.out;
    }
    else {
        rv = SD_EUNAVAILABLE;
        sd_log(SD_LOG_MARK, is_transport_error(lrc) ? SD_LOG_WARNING : SD_LOG_ERR, 0, p,
               SDLOGNO(00050) "directory %s: cannot list the tier %d agents of %s: %s (%d)",
               d->uri, tier, tenant, ldap_err2string(lrc), lrc);
    }
leave:
    if (locked) dir_unlock(d);
    if (scratch) apr_pool_destroy(scratch);
    return rv;
}
