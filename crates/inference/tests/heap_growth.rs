//! With the mmap threshold fixed, blocks above it freed by a thread leave the resident set at once.
//! Its own test binary: resident memory is per process, and other tests would move it.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn resident_mib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    kib / 1024
}

const BUFFER: usize = 16 << 20;
const THREADS: usize = 4;

/// As a generation does in each worker thread: a large transient buffer (a dequantized
/// projection), a small allocation that outlives it (cache, result), then the buffer's free.
/// Returns the MiB that stay resident once every thread has freed its buffer.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn resident_after_calls() -> usize {
    // A first buffer freed: glibc's dynamic threshold would rise to its size here, so the
    // threads' buffers would then come from their heap arenas instead of their own mappings.
    drop(std::hint::black_box(vec![1u8; BUFFER]));
    let start = resident_mib();
    let freed = std::sync::Barrier::new(THREADS + 1);
    let measured = std::sync::Barrier::new(THREADS + 1);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let buffer = std::hint::black_box(vec![1u8; BUFFER]);
                let outlives = std::hint::black_box(vec![1u8; 4 << 10]);
                drop(buffer);
                freed.wait();
                measured.wait();
                drop(outlives);
            });
        }
        freed.wait();
        let kept = resident_mib().saturating_sub(start);
        measured.wait();
        kept
    })
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn freed_call_buffers_leave_the_resident_set() {
    // Without the fix each thread keeps its 16 MiB buffer resident (64 MiB here).
    opt_native_inference::memory::bound_heap_growth();
    let kept = resident_after_calls();
    assert!(
        kept < 16,
        "{kept} MiB stayed resident after the buffers were freed"
    );
}
