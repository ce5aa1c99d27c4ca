/* The store's SQLite handle, for its reading side (sched-store-load.c) only. */
#ifndef ND_SCHED_STORE_DB_H
#define ND_SCHED_STORE_DB_H

#include <sqlite3.h>

#include "scheduler/state/store/sched-store.h"

sqlite3 *sched_store_db(struct sched_store *st);

#endif
