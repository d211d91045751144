//! The global allocator: a bump allocator over `memory.grow` (wasm32 only).
//!
//! Every call runs in a fresh instance, so memory lives only as long as one
//! call and is never worth recycling: allocation bumps a pointer, growing the
//! linear memory by the pages it needs when it runs out. Two cases are cheap to do
//! better and common: freeing or resizing the newest allocation (a `Vec` that
//! is built up, a temporary buffer) moves the pointer back or grows in place.
//!
//! Memory that was never handed out is still zero (a fresh instance's heap is
//! zero, and so is memory that `memory.grow` adds), so zeroed allocations
//! there skip the zeroing: that matters because the VM charges fuel per byte
//! for `memory.fill`, and Borsh decodes every byte string into a zeroed buffer.
//!
//! The heap starts at the linker's `__heap_base` (past the data and the
//! shadow stack) and ends at the end of the memory. When `memory.grow` fails the
//! allocator returns null and the allocation error handler panics (a contract
//! that asks the VM for more than its memory limit is trapped by the host
//! before that, with `E_OUT_OF_MEMORY`).

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// A WASM page.
const PAGE: usize = 64 * 1024;

unsafe extern "C" {
    /// Where the heap starts: a symbol the linker (`wasm-ld`) defines.
    static __heap_base: u8;
}

/// The bump allocator. The atomics compile to plain loads and stores: a
/// contract instance has one thread.
struct Bump {
    /// The first free byte; 0 until the first allocation.
    next: AtomicUsize,
    /// The end of the memory (as far as the allocator knows it).
    end: AtomicUsize,
    /// Every byte from here to `end` is zero: nothing was ever handed out there.
    clean: AtomicUsize,
}

#[global_allocator]
static HEAP: Bump = Bump { next: AtomicUsize::new(0), end: AtomicUsize::new(0), clean: AtomicUsize::new(0) };

impl Bump {
    /// The first free byte, setting up the heap on first use.
    fn next(&self) -> usize {
        let next = self.next.load(Relaxed);
        if next != 0 {
            return next;
        }
        let base = &raw const __heap_base as usize;
        self.end.store(wasm32::memory_size(0).saturating_mul(PAGE), Relaxed);
        self.next.store(base, Relaxed);
        self.clean.store(base, Relaxed);
        base
    }

    /// Makes the memory reach at least `end` (exclusive). False when it cannot grow.
    fn reserve(&self, end: usize) -> bool {
        let have = self.end.load(Relaxed);
        if end <= have {
            return true;
        }
        let pages = (end - have).div_ceil(PAGE);
        let old = wasm32::memory_grow(0, pages);
        if old == usize::MAX {
            return false;
        }
        // A full 4 GiB memory ends one past `usize::MAX`: saturate.
        self.end.store(old.saturating_add(pages).saturating_mul(PAGE), Relaxed);
        true
    }

    /// `size` bytes aligned to `align` at the top of the heap, or null.
    fn bump(&self, size: usize, align: usize) -> *mut u8 {
        let next = self.next();
        // `align` is a power of two (a `Layout` guarantees it).
        let Some(start) = next.checked_add(align - 1).map(|n| n & !(align - 1)) else {
            return null_mut();
        };
        let Some(end) = start.checked_add(size) else {
            return null_mut();
        };
        if !self.reserve(end) {
            return null_mut();
        }
        self.advance(end);
        start as *mut u8
    }

    /// Moves the top of the heap to `end`, which may then hold anything.
    fn advance(&self, end: usize) {
        self.next.store(end, Relaxed);
        if end > self.clean.load(Relaxed) {
            self.clean.store(end, Relaxed);
        }
    }

    /// Whether `[ptr, ptr + size)` is the newest allocation.
    fn is_top(&self, ptr: *mut u8, size: usize) -> bool {
        (ptr as usize).wrapping_add(size) == self.next.load(Relaxed)
    }
}

// SAFETY: allocations are carved from memory no other allocation covers: `next`
// only moves past a block when it is handed out, and only moves back over the
// newest block when that block is freed or shrunk. Memory below `__heap_base`
// (data, shadow stack) is never handed out. Memory only grows, so a handed-out
// block stays valid. `clean` only moves up past memory that was handed out
// (`advance`); the host writes only into buffers handed out for it, so memory
// from `clean` on is zero and `alloc_zeroed` may skip it.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.bump(layout.size(), layout.align())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let clean = self.clean.load(Relaxed);
        let ptr = self.bump(layout.size(), layout.align());
        let start = ptr as usize;
        if !ptr.is_null() && start < clean {
            // SAFETY: the block is live and `size` bytes long; only the part
            // below `clean` (which is not known to be zero) is written.
            unsafe { core::ptr::write_bytes(ptr, 0, layout.size().min(clean - start)) };
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.is_top(ptr, layout.size()) {
            self.next.store(ptr as usize, Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.is_top(ptr, layout.size()) {
            // The newest block grows or shrinks where it is.
            let Some(end) = (ptr as usize).checked_add(new_size) else {
                return null_mut();
            };
            if !self.reserve(end) {
                return null_mut();
            }
            self.advance(end);
            return ptr;
        }
        let new = self.bump(new_size, layout.align());
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct (the new one lies above the
            // old one) and at least `min(old, new)` bytes long.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}
