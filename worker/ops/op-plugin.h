/* Custom ops from shared objects (--plugin), loaded into the op registry. */
#ifndef ND_OP_PLUGIN_H
#define ND_OP_PLUGIN_H

/* Load every plugin in the NULL-terminated list `paths`; 0 or -errno with a cause naming the
 * file. */
int op_plugin_load(char **paths, char **cause);

#endif
