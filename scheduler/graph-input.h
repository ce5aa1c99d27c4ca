/* Counting a job's units (channels × trials) from its pipeline's input object. */
#ifndef ND_GRAPH_INPUT_H
#define ND_GRAPH_INPUT_H

#include <jansson.h>
#include <stdint.h>

#define GRAPH_INPUT_FORMATS "tasks, grid"

int graph_input_units(const json_t *input, uint32_t *nchan, uint32_t *ntrial, char **cause);

#endif
