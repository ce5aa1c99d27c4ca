/* The scheduler daemon's command line, shared by neurodag-scheduler and `neurodag scheduler`. */
#ifndef ND_SCHED_MAIN_H
#define ND_SCHED_MAIN_H

int sched_main(int argc, char **argv);

#endif
