/* Test-only LD_PRELOAD library: a disk that fills up. With WGFLOW_FAIL_WRITE_AFTER_BYTES=N set, the
 * write() and pwrite() calls into files whose name ends in ".tmp" (the only files wgflow writes
 * output into) succeed for N bytes in total and then fail with ENOSPC, as on a full file system.
 * The disk-full test uses it when it may not mount a small tmpfs (not root). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long g_budget = -2; /* -2: not read yet; -1: no limit */

static int counts(int fd) {
  if (g_budget == -2) {
    const char* limit = getenv("WGFLOW_FAIL_WRITE_AFTER_BYTES");
    g_budget = limit != NULL ? atoll(limit) : -1;
  }
  if (g_budget < 0) return 0;
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  return n > 4 && memcmp(target + n - 4, ".tmp", 4) == 0;
}

/* Takes `count` bytes from the budget; returns how many may be written (0: the disk is full). */
static size_t allowance(int fd, size_t count) {
  if (!counts(fd)) return count;
  const size_t left = (size_t)g_budget;
  const size_t granted = count < left ? count : left;
  g_budget -= (long long)granted;
  return granted;
}

ssize_t write(int fd, const void* buf, size_t count) {
  static ssize_t (*real)(int, const void*, size_t);
  if (real == NULL) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  const size_t granted = allowance(fd, count);
  if (granted == 0 && count > 0) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, granted);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off_t);
  if (real == NULL) real = (ssize_t(*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  const size_t granted = allowance(fd, count);
  if (granted == 0 && count > 0) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, granted, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) { return pwrite(fd, buf, count, offset); }
