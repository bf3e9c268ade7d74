/* mod_sdesk core: the vocabulary words, names for our status codes and the
 * default limits. The words are the API's (API.md "Vocabulary") and the
 * database's; the tables below are indexed by the enums in sd.h, so their
 * order must follow those enums. */
#include <string.h>

#include "sd.h"

static const char *const urgency_words[SD_URG_COUNT] = {
    "patient-safety", "job-stopped", "function-affected", "not-blocking"
};

static const char *const impact_words[SD_IMPACT_COUNT] = {
    "single", "multiple", "all"
};

static const char *const priority_words[SD_PRIO_COUNT] = {
    "critical", "urgent", "high", "normal"
};

static const char *const status_words[SD_ST_COUNT] = {
    "new", "open", "pending", "resolved", "closed"
};

static const char *const env_words[SD_ENV_COUNT] = {
    "production", "test", "training"
};

static const char *word_of(const char *const *words, int n, int i)
{
    return (i >= 0 && i < n) ? words[i] : NULL;
}

/* Exact, case-sensitive match: the API documents lower-case words, and
 * accepting variants would let two spellings of one value reach the database. */
static int index_of(const char *const *words, int n, const char *s)
{
    int i;
    if (!s) return -1;
    for (i = 0; i < n; i++) {
        if (!strcmp(words[i], s)) return i;
    }
    return -1;
}

const char *sd_urgency_str(int u)
{
    return word_of(urgency_words, SD_URG_COUNT, u);
}

int sd_urgency_from_str(const char *s)
{
    return index_of(urgency_words, SD_URG_COUNT, s);
}

const char *sd_impact_str(int i)
{
    return word_of(impact_words, SD_IMPACT_COUNT, i);
}

int sd_impact_from_str(const char *s)
{
    return index_of(impact_words, SD_IMPACT_COUNT, s);
}

const char *sd_priority_str(int p)
{
    return word_of(priority_words, SD_PRIO_COUNT, p);
}

int sd_priority_from_str(const char *s)
{
    return index_of(priority_words, SD_PRIO_COUNT, s);
}

const char *sd_status_str(int s)
{
    return word_of(status_words, SD_ST_COUNT, s);
}

int sd_status_from_str(const char *s)
{
    return index_of(status_words, SD_ST_COUNT, s);
}

const char *sd_env_str(int e)
{
    return word_of(env_words, SD_ENV_COUNT, e);
}

int sd_env_from_str(const char *s)
{
    return index_of(env_words, SD_ENV_COUNT, s);
}

const char *sd_status_name(apr_status_t rv)
{
    switch (rv) {
    case APR_SUCCESS:      return "APR_SUCCESS";
    case SD_ENOTFOUND:     return "SD_ENOTFOUND";
    case SD_EINVALID:      return "SD_EINVALID";
    case SD_ECONFLICT:     return "SD_ECONFLICT";
    case SD_EFORBIDDEN:    return "SD_EFORBIDDEN";
    case SD_ETOOBIG:       return "SD_ETOOBIG";
    case SD_EUNAVAILABLE:  return "SD_EUNAVAILABLE";
    case SD_EMALFORMED:    return "SD_EMALFORMED";
    case SD_EBUSY:         return "SD_EBUSY";
    case SD_EPRECONDITION: return "SD_EPRECONDITION";
    case SD_EMEDIATYPE:    return "SD_EMEDIATYPE";
    case SD_ENOUSER:       return "SD_ENOUSER";
    case SD_EINTERNAL:     return "SD_EINTERNAL";
    default:               return "apr";   /* an APR or OS code: apr_strerror() it */
    }
}

void sd_limits_default(sd_limits_t *l)
{
    memset(l, 0, sizeof(*l));
    l->max_body        = SD_DEF_MAX_BODY;
    l->max_depth       = SD_DEF_MAX_DEPTH;
    l->max_subject     = SD_DEF_MAX_SUBJECT;
    l->max_description = SD_DEF_MAX_DESCRIPTION;
    l->max_field       = SD_DEF_MAX_FIELD;
    l->max_url         = SD_DEF_MAX_URL;
    l->max_cc          = SD_DEF_MAX_CC;
    l->max_context     = SD_DEF_MAX_CONTEXT;
    l->max_context_val = SD_DEF_MAX_CONTEXT_VAL;
}
