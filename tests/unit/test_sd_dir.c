/* Unit tests of lib/sd_dir.c: filter escaping, URL checks, and lookups
 * against servers that refuse or never answer. Lookups against a real slapd
 * are in the end-to-end suite. */
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "sd_test.h"

#include <apr_strings.h>
#include <apr_time.h>

#include "sd.h"
#include "sd_dir.h"
#include "sd_log.h"

/* ---- a log recorder ---------------------------------------------------- */

static char log_seen[8192];

static void log_record(void *baton, const char *file, int line, int level,
                       apr_status_t rv, const char *msg)
{
    apr_size_t len = strlen(log_seen);

    (void)baton; (void)file; (void)line; (void)level; (void)rv;
    apr_snprintf(log_seen + len, sizeof(log_seen) - len, "%s\n", msg);
}

static int log_all(void *baton, int level)
{
    (void)baton; (void)level;
    return 1;
}

static void log_start(void)
{
    log_seen[0] = '\0';
    sd_log_set(log_record, log_all, NULL);
}

static void log_stop(void)
{
    sd_log_set(NULL, NULL, NULL);
}

/* ---- sockets on 127.0.0.1 ---------------------------------------------- */

/* A bound, unconnected TCP socket on 127.0.0.1 with a free port. */
static int socket_any_port(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
        || getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static sd_dir_conf_t *conf_make(int port, apr_interval_time_t timeout, apr_pool_t *p)
{
    sd_dir_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->url = apr_psprintf(p, "ldap://127.0.0.1:%d/dc=sdesk,dc=test?uid?sub"
                             "?(objectClass=inetOrgPerson)", port);
    conf->agent_groups[2] = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(conf->agent_groups[2], const char *) = "cn=tier2,ou=groups,dc=sdesk,dc=test";
    conf->cache_ttl = apr_time_from_sec(300);
    conf->negative_ttl = apr_time_from_sec(60);
    conf->cache_max = 100;
    conf->timeout = timeout;
    return conf;
}

/* ---- filter escaping --------------------------------------------------- */

static void test_escape_table(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *in, *out; } cases[] = {
        { "alice",              "alice" },
        { "",                   "" },
        { "*",                  "\\2A" },
        { "(",                  "\\28" },
        { ")",                  "\\29" },
        { "\\",                 "\\5C" },
        { "a*)(uid=*",          "a\\2A\\29\\28uid=\\2A" },
        { "*)(|(objectClass=*)", "\\2A\\29\\28|\\28objectClass=\\2A\\29" },
        { "O'Brien-Smith x.y",  "O'Brien-Smith x.y" },
        /* UTF-8 (é, Ä): RFC 4515 allows octets to be escaped, libldap does */
        { "caf\xc3\xa9",        "caf\\C3\\A9" },
        { "\xc3\x84rzte",       "\\C3\\84rzte" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *esc = sd_dir_escape_filter(cases[i].in, p);
        assert_non_null(esc);
        assert_string_equal(cases[i].out, esc);
    }
    assert_null(sd_dir_escape_filter(NULL, p));
}

/* ---- URL check --------------------------------------------------------- */

static void test_url_accepts(void **state)
{
    apr_pool_t *p = *state;
    static const char *const good[] = {
        "ldap://ldap.example/dc=example,dc=org",
        "ldap://ldap.example:389/dc=example,dc=org?uid",
        "ldap://ldap.example:389/dc=example,dc=org?uid?sub?(objectClass=inetOrgPerson)",
        "ldaps://ldap.example:636/ou=people,dc=example,dc=org?cn?one?(objectClass=*)",
        "LDAP://127.0.0.1:3890/dc=sdesk,dc=test??base",
        "ldap://[::1]:389/dc=x??subtree?(&(objectClass=person)(!(status=disabled)))",
        "ldap://h/o=North%20Hospital,dc=x?uid?sub?(cn=a\\2a)",
        "ldap://h/dc=x?uid?sub?(objectClass=person)?x-ignored",
    };
    apr_size_t i;
    const char *why;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
        why = "unset";
        if (APR_SUCCESS != sd_dir_url_check(good[i], &why, p)) {
            fail_msg("rejected %s: %s", good[i], why ? why : "(no reason)");
        }
    }
}

static void test_url_rejects(void **state)
{
    apr_pool_t *p = *state;
    static const struct { const char *url, *why; } bad[] = {
        { "",                                        "empty" },
        { "http://ldap.example/dc=x",                "scheme 'http' is not supported" },
        { "ldapi:///dc=x",                           "scheme 'ldapi' is not supported" },
        { "ldap.example/dc=x",                       "does not start with ldap://" },
        { "ldap://ldap.example",                     "no base DN" },
        { "ldap://ldap.example/",                    "no base DN" },
        { "ldap:///dc=x",                            "no host" },
        { "ldap://h1 h2/dc=x",                       "more than one host" },
        { "ldap://h:99999/dc=x",                     "port 99999 is out of range" },
        { "ldap://h:abc/dc=x",                       "malformed" },
        { "ldap://h/not a dn",                       "not a valid DN" },
        { "ldap://h/dc=x?uid?foo",                   "scope 'foo' is not one of base, one, sub" },
        { "ldap://h/dc=x?uid?children",              "scope 'children' is not one of" },
        { "ldap://h/dc=x?uid,cn",                    "names 2 attributes" },
        { "ldap://h/dc=x?u*d",                       "not an attribute name" },
        { "ldap://h/dc=x?uid?sub?objectClass=person", "does not start with '('" },
        { "ldap://h/dc=x?uid?sub?(objectClass=person", "missing 1 closing ')'" },
        { "ldap://h/dc=x?uid?sub?(a=b))",            "unbalanced ')'" },
        { "ldap://h/dc=x?uid?sub?(a=b)(c=d)",        "text after its closing ')'" },
        { "ldap://h/dc=x?uid?sub?(&())",             "empty '()'" },
        { "ldap://h/dc=x?uid?sub?(cn=a\\zz)",        "two hex digits" },
        { "ldap://h/dc=x?uid?sub?(a=%29)",           "unbalanced ')'" },
        { "ldap://h/dc=x?uid?sub?(a=b)?!x-critical", "critical extension" },
    };
    apr_size_t i;
    const char *why;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        why = NULL;
        if (APR_EINVAL != sd_dir_url_check(bad[i].url, &why, p)) {
            fail_msg("accepted %s", bad[i].url);
        }
        assert_non_null(why);
        if (!strstr(why, bad[i].why)) {
            fail_msg("%s: reason '%s' does not say '%s'", bad[i].url, why, bad[i].why);
        }
    }
    why = NULL;
    assert_int_equal(APR_EINVAL, sd_dir_url_check(NULL, &why, p));
    assert_non_null(why);
}

static void test_create_rejects_bad_url(void **state)
{
    apr_pool_t *p = *state;
    sd_dir_conf_t *conf = conf_make(389, apr_time_from_sec(1), p);
    sd_dir_t *d = (sd_dir_t *)&d;

    conf->url = "ldap://h/dc=x?uid?bogus";
    log_start();
    assert_int_equal(APR_EINVAL, sd_dir_create(&d, conf, p));
    log_stop();
    assert_null(d);
    assert_non_null(strstr(log_seen, "scope 'bogus'"));
}

/* ---- lookups without a working server ---------------------------------- */

static void test_lookup_empty_user(void **state)
{
    apr_pool_t *p = *state;
    sd_dir_t *d;
    sd_user_t *u = (sd_user_t *)&u;
    sd_dir_stats_t st;

    assert_int_equal(APR_SUCCESS, sd_dir_create(&d, conf_make(9, apr_time_from_sec(1), p), p));
    assert_int_equal(SD_ENOUSER, sd_dir_lookup(&u, d, "", p));
    assert_null(u);
    assert_int_equal(SD_ENOUSER, sd_dir_lookup(&u, d, NULL, p));
    sd_dir_stats(&st, d);
    assert_true(st.hits == 0 && st.misses == 0 && st.stale == 0 && st.entries == 0);
}

static void test_lookup_refused(void **state)
{
    apr_pool_t *p = *state;
    sd_dir_t *d;
    sd_user_t *u = (sd_user_t *)&u;
    sd_dir_stats_t st;
    apr_time_t start;
    int port, fd;

    /* a port that was free a moment ago and has no listener */
    fd = socket_any_port(&port);
    assert_true(fd >= 0);
    close(fd);

    assert_int_equal(APR_SUCCESS, sd_dir_create(&d, conf_make(port, apr_time_from_sec(1), p), p));
    log_start();
    start = apr_time_now();
    assert_int_equal(SD_EUNAVAILABLE, sd_dir_lookup(&u, d, "alice", p));
    log_stop();
    assert_null(u);
    assert_true(apr_time_now() - start < apr_time_from_msec(500));
    assert_non_null(strstr(log_seen, "SD00048"));
    sd_dir_stats(&st, d);
    assert_true(st.misses == 1 && st.hits == 0 && st.entries == 0);
}

static void test_lookup_never_answers(void **state)
{
    apr_pool_t *p = *state;
    sd_dir_t *d;
    sd_user_t *u = (sd_user_t *)&u;
    apr_time_t start, took;
    int port, fd;

    /* The kernel completes the handshake into the backlog; nobody accepts. */
    fd = socket_any_port(&port);
    assert_true(fd >= 0);
    assert_int_equal(0, listen(fd, 16));

    assert_int_equal(APR_SUCCESS, sd_dir_create(&d, conf_make(port, apr_time_from_sec(1), p), p));
    log_start();
    start = apr_time_now();
    assert_int_equal(SD_EUNAVAILABLE, sd_dir_lookup(&u, d, "alice", p));
    took = apr_time_now() - start;
    assert_null(u);
    /* one timeout, reconnect, one more: about 2 s, never much more */
    assert_true(took >= apr_time_from_msec(900));
    assert_true(took < apr_time_from_sec(3));
    assert_non_null(strstr(log_seen, "SD00048"));

    /* Right after a failure the server is left alone: no second wait. */
    start = apr_time_now();
    assert_int_equal(SD_EUNAVAILABLE, sd_dir_lookup(&u, d, "bob", p));
    assert_true(apr_time_now() - start < apr_time_from_msec(200));
    log_stop();
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_escape_table),
        SD_TEST(test_url_accepts),
        SD_TEST(test_url_rejects),
        SD_TEST(test_create_rejects_bad_url),
        SD_TEST(test_lookup_empty_user),
        SD_TEST(test_lookup_refused),
        SD_TEST(test_lookup_never_answers),
    };
    return SD_RUN("sd_dir", tests);
}
