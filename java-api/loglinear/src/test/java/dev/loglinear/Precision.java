package dev.loglinear;

/** A dtype the golden cases are run at, with its tolerance (relative Frobenius error, docs/numerics.md). */
enum Precision {
    F64(DType.FLOAT64, 1e-10),
    F32(DType.FLOAT32, 1e-5);

    final DType dtype;
    final double tolerance;

    Precision(DType dtype, double tolerance) {
        this.dtype = dtype;
        this.tolerance = tolerance;
    }

    /** {@code array} as a tensor of this precision with its own shape. */
    Tensor tensor(NpyFile array) {
        return this == F64 ? Tensor.of(array.data().clone(), array.shape()) : Tensor.of(array.floats(), array.shape());
    }
}
