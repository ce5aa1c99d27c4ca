/* The run context's own helpers. */
#include "worker/ops/spec/op-run.h"

int
op_run_cancelled(const struct op_run *run)
{
	return run->cancel != NULL && atomic_load(run->cancel) != 0;
}
