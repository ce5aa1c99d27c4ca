/* The worker's command line, shared by neurodag-worker and `neurodag worker`. */
#ifndef ND_WORKER_CLI_H
#define ND_WORKER_CLI_H

int worker_cli_main(const char *prog, int argc, char **argv);
int worker_plugins_load(char **paths, char **cause);

#endif
