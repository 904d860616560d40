//! A counting global allocator for the tests that measure what a read holds on the heap.
//! Included with `#[path]` by the test crates that want it (each crate has one allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the heap bytes the current thread holds, and the most it held.
struct Counting;

thread_local! {
    static HELD: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = HELD.try_with(|h| {
            h.set(h.get() + l.size());
            let _ = PEAK.try_with(|p| p.set(p.get().max(h.get())));
        });
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, l: Layout) {
        let _ = HELD.try_with(|h| h.set(h.get().saturating_sub(l.size())));
        unsafe { System.dealloc(ptr, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most heap the current thread held while running `f`, beyond what it held before.
pub fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = HELD.with(|h| h.get());
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(|p| p.get()) - base)
}
