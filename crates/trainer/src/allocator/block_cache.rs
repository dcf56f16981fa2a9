//! A cache of large freed blocks in front of the system allocator.
//!
//! A CPU training step allocates and frees the same large buffers every step: logits of
//! `[rows·length, vocabulary]` (64 MiB at the small preset, length 64), their gradients,
//! matmul outputs. glibc maps every buffer over 32 MiB, and every buffer that a worker
//! thread's arena cannot hold, with `mmap` and unmaps it on free, so the next step faults all
//! its pages in again and the kernel zero-fills them: with `--cpu-shards 2`, a third of the
//! LSTM's training samples were in the kernel (docs/BENCHMARKS.md, change 9). This cache keeps
//! freed blocks of 1 MiB and more, up to a byte limit, and hands them out again for requests of
//! the same size class, so a step reuses the pages the last one faulted in.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Requests from this size up go through the cache; smaller ones go straight to the system.
pub const MIN_BLOCK: usize = 1 << 20;
/// Requests over this size go straight to the system too: their size class (at most 1/8
/// larger) then always fits a valid layout.
const MAX_BLOCK: usize = isize::MAX as usize / 2;
/// Every block of the cache is allocated with this alignment, malloc's own on 64-bit targets
/// (so the system serves it with plain `malloc`, `calloc` and `realloc`); requests aligned
/// beyond it bypass the cache.
const BLOCK_ALIGN: usize = 16;
/// Size classes are multiples of a page.
const PAGE: usize = 4096;
/// How many freed blocks the cache can hold at once.
const SLOTS: usize = 256;
/// The size of the block that serves a request of `size` bytes (`size >= MIN_BLOCK`): eight
/// classes per doubling, so a block is at most 1/8 larger than its request.
pub fn size_class(size: usize) -> usize {
    let step = 1usize << (usize::BITS - 1 - size.leading_zeros()).saturating_sub(3);
    let step = step.max(PAGE);
    size.div_ceil(step).saturating_mul(step)
}

/// One freed block: its address (0 when the slot is empty), size class and age.
#[derive(Clone, Copy)]
struct Slot {
    address: usize,
    class: usize,
    freed_at: u64,
}

const EMPTY: Slot = Slot {
    address: 0,
    class: 0,
    freed_at: 0,
};

struct Cache {
    slots: [Slot; SLOTS],
    /// Bytes held in `slots`.
    bytes: usize,
    /// Counts frees, to find the oldest block.
    clock: u64,
}

/// Counts of the cache's work since the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BlockStats {
    /// The most bytes the cache may hold.
    pub limit_bytes: usize,
    /// Large requests served from a cached block.
    pub hits: u64,
    /// Large requests the system allocator served.
    pub misses: u64,
    /// Bytes held by the cache now.
    pub cached_bytes: usize,
}

/// The system allocator with a cache of large freed blocks, for `#[global_allocator]`.
///
/// The cache holds at most `limit` bytes (0, the start value, keeps nothing); when a freed
/// block does not fit, the oldest blocks go back to the system first.
pub struct BlockCache {
    cache: Mutex<Cache>,
    limit: AtomicUsize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for BlockCache {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockCache {
    /// An allocator that keeps nothing until [`BlockCache::set_limit`] gives it room.
    pub const fn new() -> Self {
        Self {
            cache: Mutex::new(Cache {
                slots: [EMPTY; SLOTS],
                bytes: 0,
                clock: 0,
            }),
            limit: AtomicUsize::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Let the cache hold up to `bytes` of freed blocks (0 turns it off and frees what it holds).
    pub fn set_limit(&self, bytes: usize) {
        self.limit.store(bytes, Ordering::Relaxed);
        self.shrink_to(&mut self.lock(), bytes);
    }

    /// What the cache has done so far and holds now.
    pub fn stats(&self) -> BlockStats {
        BlockStats {
            limit_bytes: self.limit.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            cached_bytes: self.lock().bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a request goes through the cache.
    fn cached(layout: Layout) -> bool {
        (MIN_BLOCK..=MAX_BLOCK).contains(&layout.size()) && layout.align() <= BLOCK_ALIGN
    }

    /// The layout of a block of size class `class` (the class of a request [`Self::cached`]
    /// accepts).
    fn block_layout(class: usize) -> Layout {
        // SAFETY: the class of a size up to `MAX_BLOCK` is at most 9/8 of it, below
        // `isize::MAX` less the alignment; the alignment is a power of two.
        unsafe { Layout::from_size_align_unchecked(class, BLOCK_ALIGN) }
    }

    /// The most recently freed cached block of `class` bytes (the likeliest to be in the CPU's
    /// caches still), if the cache holds one.
    fn take(&self, class: usize) -> Option<*mut u8> {
        let mut cache = self.lock();
        let slot = cache
            .slots
            .iter_mut()
            .filter(|slot| slot.address != 0 && slot.class == class)
            .max_by_key(|slot| slot.freed_at)?;
        let address = slot.address;
        *slot = EMPTY;
        cache.bytes -= class;
        Some(address as *mut u8)
    }

    /// Free the cache's oldest block to the system.
    fn evict_oldest(&self, cache: &mut Cache) {
        let Some(slot) = cache
            .slots
            .iter_mut()
            .filter(|slot| slot.address != 0)
            .min_by_key(|slot| slot.freed_at)
        else {
            return;
        };
        let (address, class) = (slot.address, slot.class);
        *slot = EMPTY;
        cache.bytes -= class;
        // SAFETY: the block came from `System.alloc` with this layout and nobody else holds it.
        unsafe { System.dealloc(address as *mut u8, Self::block_layout(class)) };
    }

    /// Free the oldest blocks to the system until the cache holds at most `bytes`.
    fn shrink_to(&self, cache: &mut Cache, bytes: usize) {
        while cache.bytes > bytes {
            self.evict_oldest(cache);
        }
    }

    /// Keep a freed block of `class` bytes, or give it back to the system.
    fn give(&self, address: *mut u8, class: usize) {
        let limit = self.limit.load(Ordering::Relaxed);
        if class <= limit {
            let mut cache = self.lock();
            self.shrink_to(&mut cache, limit - class);
            if cache.slots.iter().all(|slot| slot.address != 0) {
                self.evict_oldest(&mut cache);
            }
            cache.clock += 1;
            let freed_at = cache.clock;
            if let Some(slot) = cache.slots.iter_mut().find(|slot| slot.address == 0) {
                *slot = Slot {
                    address: address as usize,
                    class,
                    freed_at,
                };
                cache.bytes += class;
                return;
            }
        }
        // SAFETY: the block came from `System.alloc` with this layout.
        unsafe { System.dealloc(address, Self::block_layout(class)) };
    }

    /// A new block of `class` bytes from the system; on failure, frees the cache and retries.
    ///
    /// A zeroed block is written with zeros here rather than taken from `calloc`: `calloc`'s
    /// fresh pages are mapped to the kernel's shared zero page when first read (burn-flex reads
    /// its zeroed buffers before anything writes them), and the first write to each such page,
    /// once the block is reused, is a copy-on-write fault that interrupts every core to flush
    /// its TLB. Writing the zeros faults each page in once, for good.
    fn fresh(&self, class: usize, zeroed: bool) -> *mut u8 {
        self.misses.fetch_add(1, Ordering::Relaxed);
        let layout = Self::block_layout(class);
        // SAFETY: `layout` has a non-zero size.
        let allocate = || unsafe { System.alloc(layout) };
        let mut block = allocate();
        if block.is_null() {
            self.shrink_to(&mut self.lock(), 0);
            block = allocate();
        }
        if zeroed && !block.is_null() {
            // SAFETY: the block holds `class` bytes.
            unsafe { block.write_bytes(0, class) };
        }
        block
    }

    fn allocate(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        let class = size_class(layout.size());
        match self.take(class) {
            Some(block) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                if zeroed {
                    // SAFETY: the block holds at least `class >= layout.size()` bytes.
                    unsafe { block.write_bytes(0, layout.size()) };
                }
                block
            }
            None => self.fresh(class, zeroed),
        }
    }
}

// SAFETY: requests outside `MIN_BLOCK..=MAX_BLOCK`, or aligned beyond `BLOCK_ALIGN`, go to
// `System` unchanged; the others get a `BLOCK_ALIGN`-aligned block of their size class (never
// smaller than the request), which
// is either fresh from `System` or one that was freed and is no longer used by anyone. Blocks
// go back to `System` with the layout they were allocated with.
unsafe impl GlobalAlloc for BlockCache {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::cached(layout) {
            self.allocate(layout, false)
        } else {
            // SAFETY: the caller's contract is `System`'s.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::cached(layout) {
            self.allocate(layout, true)
        } else {
            // SAFETY: the caller's contract is `System`'s.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if Self::cached(layout) {
            self.give(ptr, size_class(layout.size()));
        } else {
            // SAFETY: the block came from `System` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded to the alignment, fits in `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (Self::cached(layout), Self::cached(new_layout)) {
            // SAFETY: the caller's contract is `System`'s.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            (true, true) => {
                let (old, new) = (size_class(layout.size()), size_class(new_size));
                if old == new {
                    return ptr;
                }
                // SAFETY: the block came from `System` with the layout of its class; the new
                // one has the layout of the new class (same alignment), as `dealloc` expects.
                unsafe { System.realloc(ptr, Self::block_layout(old), new) }
            }
            _ => {
                // SAFETY: `new_layout` is valid (above) and non-zero: `new_size > 0` by contract.
                let block = unsafe { self.alloc(new_layout) };
                if !block.is_null() {
                    // SAFETY: both blocks hold at least the smaller size, and do not overlap.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, block, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                block
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    #[test]
    fn size_classes_cover_the_request_within_an_eighth() {
        for size in [
            MIB,
            MIB + 1,
            3 * MIB + 17,
            65_536_000,
            524_288_000,
            (1 << 33) + 5,
            MAX_BLOCK,
        ] {
            let class = size_class(size);
            assert!(class >= size, "{size} -> {class}");
            assert!(
                class <= isize::MAX as usize - BLOCK_ALIGN,
                "{size} -> {class}"
            );
            assert!(class - size <= size / 8, "{size} -> {class}");
            assert_eq!(class % PAGE, 0);
            assert_eq!(size_class(class), class, "a class is its own class");
        }
    }

    #[test]
    fn a_freed_block_serves_the_next_request_of_its_class() {
        let cache = BlockCache::new();
        cache.set_limit(64 * MIB);
        // SAFETY: every block is used within the size it was allocated with and freed once,
        // with the layout it was allocated with.
        unsafe {
            let a = cache.alloc(layout(5 * MIB));
            a.write_bytes(7, 5 * MIB);
            cache.dealloc(a, layout(5 * MIB));
            assert_eq!(cache.stats().cached_bytes, size_class(5 * MIB));
            // A slightly smaller request of the same class gets the same block, zeroed if asked.
            let b = cache.alloc_zeroed(layout(5 * MIB - 100));
            assert_eq!(a, b);
            assert!(
                std::slice::from_raw_parts(b, 5 * MIB - 100)
                    .iter()
                    .all(|&x| x == 0)
            );
            // Another class does not.
            let c = cache.alloc(layout(9 * MIB));
            assert_ne!(c, b);
            cache.dealloc(b, layout(5 * MIB - 100));
            cache.dealloc(c, layout(9 * MIB));
        }
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 2));
        cache.set_limit(0);
        assert_eq!(cache.stats().cached_bytes, 0);
    }

    #[test]
    fn the_limit_evicts_the_oldest_blocks_first() {
        let cache = BlockCache::new();
        cache.set_limit(10 * MIB);
        // SAFETY: every block is used within the size it was allocated with and freed once,
        // with the layout it was allocated with.
        unsafe {
            let blocks: Vec<_> = (0..3).map(|_| cache.alloc(layout(4 * MIB))).collect();
            for &block in &blocks {
                cache.dealloc(block, layout(4 * MIB));
            }
            // Only two 4 MiB blocks fit under 10 MiB: the first freed went back to the system.
            assert_eq!(cache.stats().cached_bytes, 8 * MIB);
            let again = [cache.alloc(layout(4 * MIB)), cache.alloc(layout(4 * MIB))];
            assert!(again.contains(&blocks[1]) && again.contains(&blocks[2]));
            // A block larger than the limit is never kept.
            let big = cache.alloc(layout(16 * MIB));
            cache.dealloc(big, layout(16 * MIB));
            assert_eq!(cache.stats().cached_bytes, 0);
            for block in again {
                cache.dealloc(block, layout(4 * MIB));
            }
        }
        cache.set_limit(0);
    }

    #[test]
    fn small_requests_and_growth_keep_their_contents() {
        let cache = BlockCache::new();
        cache.set_limit(64 * MIB);
        // SAFETY: every block is used within the size it was allocated with and freed once,
        // with the layout it was allocated with.
        unsafe {
            // Small to large to larger to small, through realloc: the prefix survives each move.
            let mut size = 1000;
            let mut ptr = cache.alloc(layout(size));
            for i in 0..size {
                *ptr.add(i) = (i % 251) as u8;
            }
            for new_size in [2 * MIB, 2 * MIB + 4096, 40 * MIB, 500] {
                ptr = cache.realloc(ptr, layout(size), new_size);
                assert!(!ptr.is_null());
                let kept = size.min(new_size).min(1000);
                assert!(
                    (0..kept).all(|i| *ptr.add(i) == (i % 251) as u8),
                    "to {new_size}"
                );
                size = new_size;
            }
            cache.dealloc(ptr, layout(size));
            // An alignment beyond malloc's bypasses the cache and is honoured.
            let wide = Layout::from_size_align(2 * MIB, 1 << 16).unwrap();
            let p = cache.alloc(wide);
            assert_eq!(p as usize % (1 << 16), 0);
            cache.dealloc(p, wide);
            // So does a size whose class would not fit a layout.
            let huge = Layout::from_size_align(isize::MAX as usize - 15, 16).unwrap();
            assert!(!BlockCache::cached(huge));
            // The 40 MiB block, freed when the buffer shrank to 500 bytes, is cached.
            assert_eq!(cache.stats().cached_bytes, size_class(40 * MIB));
        }
        cache.set_limit(0);
    }

    #[test]
    fn threads_share_the_cache_without_losing_blocks() {
        let cache = BlockCache::new();
        cache.set_limit(256 * MIB);
        std::thread::scope(|scope| {
            for t in 0..4u8 {
                let cache = &cache;
                scope.spawn(move || {
                    for round in 0..50 {
                        let size = (1 + (round + t as usize) % 5) * MIB;
                        // SAFETY: every block is used within the size it was allocated with and freed once,
                        // with the layout it was allocated with.
                        unsafe {
                            let p = cache.alloc(layout(size));
                            p.write_bytes(t, size);
                            assert!(std::slice::from_raw_parts(p, size).iter().all(|&x| x == t));
                            cache.dealloc(p, layout(size));
                        }
                    }
                });
            }
        });
        let stats = cache.stats();
        assert_eq!(stats.hits + stats.misses, 200);
        assert!(stats.hits > 0);
        cache.set_limit(0);
    }
}
