//! Matrix products on host `f32` slices for the fused operations' kernels
//! ([`crate::fused_lstm`], [`crate::fused_decoder`]): one call of the `gemm` crate (the one
//! burn-flex uses) on strided operands, threaded above burn-flex's own threshold.

use gemm::Parallelism;

/// gemm runs threaded from this many multiply-adds (`m · n · k`), burn-flex's own threshold.
const PARALLEL_GEMM: usize = 192 * 192 * 192;

/// A strided matrix operand of [`gemm_f32`]: base pointer, row stride, column stride.
#[derive(Clone, Copy)]
pub(crate) struct Mat {
    ptr: *const f32,
    row: isize,
    col: isize,
}

impl Mat {
    /// The row-major matrix starting at `values[0]`, its rows `stride` apart.
    pub fn rows(values: &[f32], stride: usize) -> Self {
        Mat {
            ptr: values.as_ptr(),
            row: stride as isize,
            col: 1,
        }
    }

    /// The transpose of the row-major matrix starting at `values[0]` (its rows `stride`
    /// apart), read in place.
    pub fn transposed(values: &[f32], stride: usize) -> Self {
        Mat {
            ptr: values.as_ptr(),
            row: 1,
            col: stride as isize,
        }
    }
}

/// `dst[m × n] (row stride dst_row) = (dst if accumulate) + lhs[m × k] · rhs[k × n]`, on the
/// thread pool from [`PARALLEL_GEMM`] multiply-adds.
pub(crate) fn gemm_f32(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    dst_row: usize,
    accumulate: bool,
    lhs: Mat,
    rhs: Mat,
) {
    assert!(m == 0 || n == 0 || dst.len() >= (m - 1) * dst_row + n);
    let parallelism = if m * n * k >= PARALLEL_GEMM {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: `dst` holds the `m × n` output with row stride `dst_row` (asserted above); the
    // callers pass `lhs` and `rhs` pointers and strides that stay inside slices they hold for
    // the call (`m × k` and `k × n` elements).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row as isize,
            accumulate,
            lhs.ptr,
            lhs.col,
            lhs.row,
            rhs.ptr,
            rhs.col,
            rhs.row,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `[cols, rows]` from the row-major `[rows, cols]` matrix `m`.
pub(crate) fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0f32; rows * cols];
    for (r, row) in m.chunks(cols).enumerate() {
        for (c, v) in row.iter().enumerate() {
            t[c * rows + r] = *v;
        }
    }
    t
}
