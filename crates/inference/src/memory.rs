//! Giving memory back to the operating system: after a dispose, and after each call.

/// Returns the allocator's free pages to the operating system. glibc keeps freed heap memory for
/// reuse, so without this a disposed model kept counting toward the process's resident memory:
/// 0.9 GiB of a disposed 1.5B model stayed resident, and the next model loaded beside it. The
/// binding calls it after each dispose. A no-op where the allocator is not glibc's.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: `malloc_trim` only walks glibc's own arenas and takes no pointer from us.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Fixes glibc's mmap threshold at 1 MiB. By default glibc raises the threshold to the size of
/// each large block it frees, so a generation's per-call buffers (KV cache, activations) soon come
/// from the heap arena of whichever worker thread ran it and stay resident after the call: a Node
/// process grew by about 20 MB per generate for its first calls (0.5B model, 718 → 806 MB after
/// three). With a fixed threshold those buffers are mapped and unmapped per call (762 MB, flat).
/// A no-op where the allocator is not glibc's. Process-wide: call it once, at start.
pub fn bound_heap_growth() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: `mallopt` sets one glibc tuning value; setting the threshold explicitly also
        // turns its dynamic adjustment off, which is the point.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn resident_mib() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap_or("");
        let kib: usize = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        kib / 1024
    }

    #[test]
    fn freed_heap_pages_leave_the_resident_set() {
        // 256 MiB in 64 KiB blocks (heap, not mmap), then a block allocated after them that stays:
        // glibc cannot shrink that heap past it, so freed pages stay resident until trimmed (measured
        // on glibc 2.x in a test thread's arena: 67 MiB resident before the trim, 3 MiB after). Other
        // tests run beside this one and a thread arena may hand whole heaps back by itself, so the
        // release is asserted only when the freed pages were still resident.
        let start = resident_mib();
        let blocks: Vec<Vec<u8>> = (0..4096).map(|i| vec![i as u8 | 1; 64 << 10]).collect();
        let pin = vec![1u8; 64 << 10];
        drop(blocks);
        let before = resident_mib();
        release_free_memory();
        let after = resident_mib();
        assert!(pin[0] == 1);
        if before >= start + 128 {
            assert!(
                before >= after + 32,
                "resident {before} MiB before the trim, {after} MiB after"
            );
        } else {
            // Already returned: the trim must not make anything resident again.
            assert!(
                after <= before + 8,
                "resident {before} MiB before, {after} MiB after"
            );
        }
    }
}
