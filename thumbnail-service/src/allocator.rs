//! The C allocator's setting for a process that decodes images: one arena.

/// Puts every thread's allocations in glibc's main arena, unless `MALLOC_ARENA_MAX` is set.
///
/// glibc gives threads arenas of their own. An image's buffers are allocated on whichever
/// thread runs its job, so the megabytes one image frees stay in that thread's arena while
/// the next image, on another thread, takes fresh ones: peak memory wandered by an upload's
/// size (`thumbnail serve`, 28 deflate TIFFs of up to 25 MB sent one after another: 65-67
/// MiB; with one arena, 46). Small allocations keep off the arena's lock through glibc's
/// per-thread caches. Call it first thing in `main`, before other threads exist.
#[allow(unsafe_code)]
pub fn one_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // glibc's <malloc.h>.
        const M_ARENA_MAX: std::ffi::c_int = -8;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt takes two integers and only changes the allocator's settings; glibc
        // has had M_ARENA_MAX since 2.10 and ignores parameters it does not know.
        unsafe {
            mallopt(M_ARENA_MAX, 1);
        }
    }
}
