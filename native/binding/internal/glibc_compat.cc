// Keeps the prebuilt addon loadable on glibc 2.28 and newer although it is built on a newer glibc.
// The statically linked libstdc++ (-static-libstdc++, so the addon does not depend on the host's
// C++ runtime) calls pthread functions that glibc 2.34 moved into libc under a new symbol version,
// and std::random_device calls arc4random (glibc 2.36). binding.gyp links with --wrap for each,
// so their calls land here and go to the oldest version of each symbol, which every glibc still
// exports. scripts/check-glibc.cjs fails the build check if any newer version creeps back in.
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#if defined(__x86_64__)
#define INTERPROC_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define INTERPROC_GLIBC_BASE "GLIBC_2.17"
#endif

#if defined(__GLIBC__) && defined(INTERPROC_GLIBC_BASE)

// Declares old_NAME bound to NAME@<base version>, and __wrap_NAME forwarding to it.
#define INTERPROC_OLD(ret, name, params, args)                      \
  extern "C" ret old_##name params;                                 \
  __asm__(".symver old_" #name "," #name "@" INTERPROC_GLIBC_BASE); \
  extern "C" __attribute__((visibility("hidden"))) ret __wrap_##name params { return old_##name args; }

// clang-format off
INTERPROC_OLD(int, pthread_create, (pthread_t* t, const pthread_attr_t* a, void* (*f)(void*), void* arg), (t, a, f, arg))
INTERPROC_OLD(int, pthread_join, (pthread_t t, void** r), (t, r))
INTERPROC_OLD(int, pthread_detach, (pthread_t t), (t))
INTERPROC_OLD(int, pthread_once, (pthread_once_t* o, void (*f)()), (o, f))
INTERPROC_OLD(int, pthread_key_create, (pthread_key_t* k, void (*d)(void*)), (k, d))
INTERPROC_OLD(int, __pthread_key_create, (pthread_key_t* k, void (*d)(void*)), (k, d))
INTERPROC_OLD(int, pthread_key_delete, (pthread_key_t k), (k))
INTERPROC_OLD(void*, pthread_getspecific, (pthread_key_t k), (k))
INTERPROC_OLD(int, pthread_setspecific, (pthread_key_t k, const void* v), (k, v))
// clang-format on

// arc4random (glibc 2.36) for std::random_device: the kernel's getrandom, retried until it fills.
extern "C" __attribute__((visibility("hidden"))) uint32_t __wrap_arc4random() {
  uint32_t v = 0;
  while (syscall(SYS_getrandom, &v, sizeof v, 0) != static_cast<long>(sizeof v) && errno == EINTR) {}
  return v;
}

#endif
