/* The in-process API (the optional functions of mod_sdesk.h). */
#ifndef SDESK_INPROC_H
#define SDESK_INPROC_H

/* Register the optional functions (register_hooks). */
void sdesk_inproc_register(void);

#endif /* SDESK_INPROC_H */
