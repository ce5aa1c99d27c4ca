/* neurodag-scheduler: the scheduler daemon (see sched-main.c). */
#include "scheduler/sched-main.h"

int
main(int argc, char **argv)
{
	return sched_main(argc, argv);
}
