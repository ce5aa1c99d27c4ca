/* Per-CPU builds of the hottest numeric loops: DSP_CLONES on a function makes GCC emit an
 * AVX-512, an AVX2/FMA and a baseline x86-64 version and pick one at load time, so a binary
 * built for any x86-64 machine still uses the wide vectors of the machine it runs on. Results
 * can differ in the last bits between CPUs (FMA contraction); every mode of one run (fused,
 * staged, serial) runs on the same kind of CPU when the workers do. Not under AddressSanitizer,
 * whose interceptors do not mix with ifunc resolvers. */
#ifndef ND_DSP_CLONES_H
#define ND_DSP_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define DSP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DSP_CLONES
#endif

#endif
