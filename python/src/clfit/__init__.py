"""clfit from Python: scikit-learn's MLP estimators trained by clfit's OpenCL kernels.

    import clfit
    clf = clfit.MLPClassifier(hidden_layer_sizes=(128,), batch_size=32, max_iter=10)
    clf.fit(X_train, y_train)
    clf.score(X_test, y_test)

`MLPClassifier` and `MLPRegressor` take scikit-learn's parameter names and defaults where
the meaning is the same, plus `device` (an OpenCL device index or name substring, as
clfit's --device). Errors of the library arrive as exceptions carrying its one-line
message (ValueError for bad data and settings, clfit.Error for the device).
"""
from ._clfit import Error
from ._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "Error"]
__version__ = "0.1.0"
