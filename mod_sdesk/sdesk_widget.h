/* The "Report a problem" widget for zero-code sites: an output filter
 * (SDESK_WIDGET, added by SdeskWidget On) that puts one
 *   <script type="module" src="{base}/ui/widget.js"></script>
 * into HTML pages. The script itself is the web UI's. */
#ifndef SDESK_WIDGET_H
#define SDESK_WIDGET_H

#include "httpd.h"

/* Register the filter and its insert_filter hook (register_hooks). */
void sdesk_widget_register(void);

/* check_config: bases are the locations of SetHandler sdesk. Every
 * SdeskWidget On needs a desk to point at: SdeskWidgetBase, or exactly one
 * such location (then the default). 0 (logged, naming the line) if not. */
int sdesk_widget_check(const apr_array_header_t *bases, apr_pool_t *ptemp);

#endif /* SDESK_WIDGET_H */
