/* The web pages: a shell page per route and the static files they load
 * (web/ in the repository, embedded in the module by tools/embed-web.sh). */
#ifndef SDESK_UI_H
#define SDESK_UI_H

#include "httpd.h"

/* One embedded file; path relative to web/ ("index.html", "ui/app.js"). */
typedef struct {
    const char *path;
    const char *type;              /* media type */
    const unsigned char *data;     /* len bytes, then a NUL */
    apr_size_t len;
    const char *etag;              /* quoted, strong */
} sdesk_asset_t;

/* Generated: terminated by a NULL path. */
extern const sdesk_asset_t sdesk_assets[];

/* Load the message catalogues (post_config). Returns an error text or NULL. */
const char *sdesk_ui_init(apr_pool_t *pconf);

/* Serve path (below the desk's base) when it is a page or a static file:
 * returns DECLINED for the API and anything else. */
int sdesk_ui_handle(request_rec *r, const char *base, const char *path);

#endif /* SDESK_UI_H */
