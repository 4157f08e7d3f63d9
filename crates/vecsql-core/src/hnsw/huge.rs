//! Zeroed buffers for the index's large arrays, in their own memory mapping, aligned to 2 MiB
//! and advised for transparent huge pages.
//!
//! A walk reads a few thousand vectors at random addresses. With 4 KiB pages nearly every one
//! of them also misses the TLB (100k x 384 float32 is 37,500 pages, far beyond the TLB's
//! reach), and the page walk delays the load and the prefetch that should hide it. With 2 MiB
//! pages the same vectors span 75 pages. Linux backs a mapping with huge pages only where it is
//! asked to (`madvise(MADV_HUGEPAGE)`, the default `enabled=madvise` setting) and only for whole
//! aligned 2 MiB ranges, so each buffer gets its own mapping, starting on a 2 MiB boundary.
//!
//! Untouched parts of a mapping take no memory, so a buffer may be larger than what is used of
//! it. Where huge pages are unavailable the advice is ignored and the buffer is ordinary memory;
//! on other systems it is a plain `Vec`.

/// The huge page size the alignment is for.
pub const HUGE_PAGE: usize = 2 << 20;

/// `len` zeroed `T`s (plain old data): page-aligned on Linux, a plain vector elsewhere (where
/// vectors may then straddle cache lines: slower, not wrong, as the kernels load unaligned).
pub struct HugeBuffer<T: bytemuck::Pod> {
    inner: imp::Inner<T>,
}

impl<T: bytemuck::Pod> HugeBuffer<T> {
    /// A zeroed buffer of `len` elements; `advise` asks for huge pages (worth it from a few
    /// MiB, and only where the buffer will be filled: a huge page is 2 MiB of memory as soon as
    /// one byte of it is written).
    pub fn zeroed(len: usize, advise: bool) -> Self {
        HugeBuffer {
            inner: imp::Inner::zeroed(len, advise),
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        self.inner.as_slice()
    }

    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.inner.as_mut_slice()
    }

    /// Whether the buffer asked for huge pages.
    pub fn advised(&self) -> bool {
        self.inner.advised()
    }
}

impl<T: bytemuck::Pod> std::fmt::Debug for HugeBuffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HugeBuffer")
            .field("len", &self.len())
            .field("advised", &self.advised())
            .finish()
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod imp {
    use std::marker::PhantomData;
    use std::ptr::NonNull;

    use super::HUGE_PAGE;

    /// A private anonymous mapping: `map` is what `munmap` takes back, `data` the aligned
    /// start of the `len` elements inside it.
    pub struct Inner<T> {
        map: *mut libc::c_void,
        map_len: usize,
        data: NonNull<T>,
        len: usize,
        advised: bool,
        _owns: PhantomData<T>,
    }

    // SAFETY: `Inner` owns its mapping exclusively, as a `Vec<T>` owns its allocation: no
    // other handle to the memory exists, so moving it to or sharing it with another thread is
    // as safe as for `Vec<T>` (T is plain old data).
    unsafe impl<T: Send> Send for Inner<T> {}
    // SAFETY: as above; shared access only hands out `&[T]`.
    unsafe impl<T: Sync> Sync for Inner<T> {}

    impl<T: bytemuck::Pod> Inner<T> {
        pub fn zeroed(len: usize, advise: bool) -> Self {
            let bytes = len
                .checked_mul(std::mem::size_of::<T>())
                .expect("buffer size overflows");
            if bytes == 0 {
                return Inner {
                    map: std::ptr::null_mut(),
                    map_len: 0,
                    data: NonNull::dangling(),
                    len: 0,
                    advised: false,
                    _owns: PhantomData,
                };
            }
            // Room to start on a huge page boundary: the unused head is never touched, so it
            // costs address space only.
            let map_len = bytes
                .checked_add(if advise { HUGE_PAGE } else { 0 })
                .expect("buffer size overflows");
            // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
            let map = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    map_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if map == libc::MAP_FAILED {
                std::alloc::handle_alloc_error(
                    std::alloc::Layout::from_size_align(map_len, 64).expect("valid layout"),
                );
            }
            let start = map as usize;
            let aligned = if advise {
                start.next_multiple_of(HUGE_PAGE)
            } else {
                start
            };
            let mut advised = false;
            if advise {
                let whole = (start + map_len - aligned) / HUGE_PAGE * HUGE_PAGE;
                // SAFETY: `[aligned, aligned + whole)` lies inside the mapping made above;
                // the advice changes how it is backed, never its contents.
                advised = unsafe {
                    libc::madvise(aligned as *mut libc::c_void, whole, libc::MADV_HUGEPAGE)
                } == 0;
            }
            Inner {
                map,
                map_len,
                // SAFETY (non-null): `aligned` is inside a successful mapping.
                data: NonNull::new(aligned as *mut T).expect("mapping is not null"),
                len,
                advised,
                _owns: PhantomData,
            }
        }

        #[inline(always)]
        pub fn as_slice(&self) -> &[T] {
            // SAFETY: `data` points to `len` initialised (zeroed or written) elements inside
            // the mapping this owns, page-aligned hence aligned for T; it lives as long as self.
            unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
        }

        #[inline(always)]
        pub fn as_mut_slice(&mut self) -> &mut [T] {
            // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
            unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
        }

        pub fn advised(&self) -> bool {
            self.advised
        }
    }

    impl<T> Drop for Inner<T> {
        fn drop(&mut self) {
            if self.map_len > 0 {
                // SAFETY: the mapping was made by `zeroed` with this length and is unmapped
                // once; no slice into it outlives `self`.
                unsafe { libc::munmap(self.map, self.map_len) };
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// Elsewhere a plain vector.
    pub struct Inner<T>(Vec<T>);

    impl<T: bytemuck::Pod> Inner<T> {
        pub fn zeroed(len: usize, _advise: bool) -> Self {
            Inner(vec![T::zeroed(); len])
        }
        #[inline(always)]
        pub fn as_slice(&self) -> &[T] {
            &self.0
        }
        #[inline(always)]
        pub fn as_mut_slice(&mut self) -> &mut [T] {
            &mut self.0
        }
        pub fn advised(&self) -> bool {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_zeroed_aligned_and_writable() {
        for (len, advise) in [(0, false), (0, true), (10, false), (1 << 20, true)] {
            let mut b = HugeBuffer::<f32>::zeroed(len, advise);
            assert_eq!(b.len(), len);
            assert!(b.as_slice().iter().all(|&x| x == 0.0));
            if len > 0 {
                assert_eq!(b.as_slice().as_ptr() as usize % 64, 0);
                b.as_mut_slice()[len - 1] = 1.5;
                assert_eq!(b.as_slice()[len - 1], 1.5);
            }
            if advise && len > 0 && cfg!(target_os = "linux") {
                assert_eq!(b.as_slice().as_ptr() as usize % HUGE_PAGE, 0);
            }
        }
    }
}
