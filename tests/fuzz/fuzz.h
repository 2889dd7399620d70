/*
 * fuzz.h — what every harness in tests/fuzz/ offers: one libFuzzer entry
 * point.  Built with clang -fsanitize=fuzzer (make fuzz), or with
 * tests/fuzz/replay_main.c, a plain main() that feeds it the files of a
 * corpus (make check replays the committed corpora that way, any compiler).
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of DATA (freed by the caller). */
char	*fuzz_cstr(const uint8_t *data, size_t size);

#endif
