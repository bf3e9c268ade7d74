/* The directory: resolve an authenticated user name (r->user) to name, mail,
 * tenant and roles through libldap, with a per-child TTL cache.
 *
 * Owns: one LDAP connection per sd_dir_t (LDAPv3, network and operation
 * timeouts, TCP keep-alive, size limit), used under a mutex; the cache
 * (bounded entries, TTL; stale entries are served with a warning while the
 * server is down). Never authenticates users: httpd does that.
 * Every value put into a filter is escaped (RFC 4515); DNs are never pasted
 * from user input. */
#ifndef SD_DIR_H
#define SD_DIR_H

#include "sd.h"

typedef struct sd_dir_t sd_dir_t;

typedef struct {
    const char *url;          /* as AuthLDAPURL: ldap[s]://host[:port]/base?attr?scope?filter
                                 attr defaults to uid, scope to sub, filter to (objectClass=*) */
    const char *bind_dn;      /* NULL: anonymous */
    const char *bind_pw;
    const char *tenant_attr;  /* NULL: the value of the first o= RDN of the user's DN */
    const char *name_attr;    /* NULL: displayName, then cn */
    const char *mail_attr;    /* NULL: mail */
    /* Group DNs (const char *) whose members are agents of tier i, i = 1..4;
     * index 0 unused. Membership: the group entry lists the user's DN in
     * member or uniqueMember, or the user name in memberUid. */
    apr_array_header_t *agent_groups[SD_TIER_MAX + 1];
    apr_array_header_t *admin_groups;
    apr_interval_time_t cache_ttl;      /* how long an answer is fresh */
    apr_interval_time_t negative_ttl;   /* how long "no such user" is kept */
    int cache_max;                      /* entries at most */
    apr_interval_time_t timeout;        /* network and operation timeout, each */
} sd_dir_conf_t;

typedef struct {
    const char *user;     /* the entry's own spelling of the user attribute
                             (else as given): "TOM" logs in as tom */
    const char *dn;
    const char *name;     /* display name; the user name if the entry has none */
    const char *email;    /* may be NULL */
    const char *tenant;
    int roles;            /* SD_ROLE_* bits; reporter always set */
    int tiers;            /* bit (1 << t) set for each agent tier t in 1..4 */
} sd_user_t;

/* Config-time check of an LDAP URL. APR_SUCCESS, or APR_EINVAL with *why set
 * to a sentence naming the problem. */
apr_status_t sd_dir_url_check(const char *url, const char **why, apr_pool_t *p);

/* Create the per-child directory client. No connection is made yet.
 * conf must live as long as pool (it is not copied). */
apr_status_t sd_dir_create(sd_dir_t **pd, const sd_dir_conf_t *conf, apr_pool_t *pool);

/* Resolve user. On success *pu is a copy in p.
 * SD_ENOUSER       not in the directory, or the entry has no tenant
 * SD_EUNAVAILABLE  the server is down or timed out (after one reconnect and
 *                  retry) and no entry, fresh or stale, is cached
 * A stale cached entry is returned (with a warning logged) while the server
 * cannot be reached. */
apr_status_t sd_dir_lookup(sd_user_t **pu, sd_dir_t *d, const char *user, apr_pool_t *p);

/* The agents of tier (1..4) in tenant: members of the tier's groups (member
 * or uniqueMember DNs, memberUid names) whose entry matches the URL's filter
 * and belongs to the tenant (the tenant attribute, escaped into the filter,
 * or the DN's o=). *agents holds sd_user_t (user, dn, name, email, tenant)
 * in p. Not cached: meant for background work (mail); at most 1000 members
 * per group are read. SD_EUNAVAILABLE when the directory cannot be asked. */
apr_status_t sd_dir_tier_agents(apr_array_header_t **agents, sd_dir_t *d, const char *tenant,
                                int tier, apr_pool_t *p);

/* RFC 4515 escaping of a filter value, in p. */
const char *sd_dir_escape_filter(const char *value, apr_pool_t *p);

/* Cache statistics since creation (for the benchmark and debug logs). */
typedef struct {
    apr_uint64_t hits, misses, stale, entries;
} sd_dir_stats_t;
void sd_dir_stats(sd_dir_stats_t *st, sd_dir_t *d);

#endif /* SD_DIR_H */
