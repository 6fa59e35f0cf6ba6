"""scikit-learn's MLPClassifier and MLPRegressor on clfit's library (the _clfit extension).

What is the same as scikit-learn's: the parameter names and defaults, the Adam (its
epsilon after the bias correction, as scikit-learn's) and SGD (momentum, Nesterov's)
solvers, alpha as the L2 penalty on the weights over the batch, batch_size "auto" as
min(200, n), the stopping rule (n_iter_no_change epochs without an improvement of tol, of
the training loss or with early_stopping of the validation score, whose best weights are
kept), a ConvergenceWarning at max_iter, and the fitted attributes (classes_, loss_curve_,
n_iter_, t_, coefs_, intercepts_, n_features_in_, ...). What differs: no lbfgs solver and
no learning_rate schedules (constant only); biases start at 0 (scikit-learn draws them),
and a regressor's output bias at the targets' mean; the loss in loss_curve_ leaves out
alpha's penalty. The model pickles as clfit's model file (safetensors) bytes.
"""
import json
import numbers
import struct
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from . import _clfit

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # older: the estimator's own method
    def _validate_data(est, *args, **kwargs):
        return est._validate_data(*args, **kwargs)

_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_SOLVERS = ("adam", "sgd")


class _BaseMLP(BaseEstimator):
    _regression = False

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate_init=0.001, max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, momentum=0.9, nesterovs_momentum=True, device=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.device = device

    # ---- checks ----

    def _check_params(self):
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
        if any(not isinstance(h, numbers.Integral) or h < 1 for h in hidden):
            raise ValueError("hidden_layer_sizes must be positive integers, got %r" % (self.hidden_layer_sizes,))
        if self.activation not in _ACTIVATIONS:
            raise ValueError("activation %r is not one of %s" % (self.activation, sorted(_ACTIVATIONS)))
        if self.solver not in _SOLVERS:
            raise ValueError("solver %r: clfit has %s (no lbfgs)" % (self.solver, ", ".join(_SOLVERS)))
        checks = [("alpha", self.alpha >= 0), ("learning_rate_init", self.learning_rate_init > 0),
                  ("max_iter", isinstance(self.max_iter, numbers.Integral) and self.max_iter >= 1),
                  ("tol", self.tol >= 0), ("validation_fraction", 0 < self.validation_fraction <= 0.99),
                  ("beta_1", 0 <= self.beta_1 < 1), ("beta_2", 0 <= self.beta_2 < 1), ("epsilon", self.epsilon > 0),
                  ("n_iter_no_change", self.n_iter_no_change >= 1), ("momentum", 0 <= self.momentum <= 0.999)]
        for name, ok in checks:
            if not ok:
                raise ValueError("%s=%r is out of range" % (name, getattr(self, name)))
        if self.batch_size != "auto" and not (isinstance(self.batch_size, numbers.Integral) and self.batch_size >= 1):
            raise ValueError("batch_size must be 'auto' or a positive integer, got %r" % (self.batch_size,))
        return [int(h) for h in hidden]

    def _batch(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
        return int(min(self.batch_size, n))

    # ---- the model ----

    def _new_model(self, n_features, n_outputs, batch, seed):
        hidden = self._check_params()
        model = _clfit.new_model(n_features, hidden, n_outputs, self._regression, _ACTIVATIONS[self.activation],
                                 seed, batch)
        _clfit.set_optimizer(model, self.solver, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon,
                             self.momentum if self.solver == "sgd" else 0.0,
                             bool(self.nesterovs_momentum) and self.solver == "sgd" and self.momentum > 0, self.alpha)
        self.n_layers_ = len(hidden) + 2
        self.n_outputs_ = n_outputs
        return model

    def _train(self, X, labels, targets, epochs, early_stopping, seed, incremental=False):
        """epochs of clfit_fit on X (float32, C order) with the stopping rule; the last rows
        are the validation set under early_stopping."""
        n = X.shape[0]
        vsplit, y_val_var = 0.0, None
        if early_stopping:
            n_val = max(1, int(round(n * self.validation_fraction)))
            if n - n_val < 1:
                raise ValueError("validation_fraction=%g of %d samples leaves none to train on"
                                 % (self.validation_fraction, n))
            vsplit = (n_val - 0.5) / n  # clfit trains on floor(n (1 - split)) = n - n_val rows
            if targets is not None:
                y_val_var = float(np.mean(np.var(targets[n - n_val:], axis=0))) or 1.0
        state = {"best": np.inf, "count": 0, "stopped": False}
        if not incremental:
            self.loss_curve_ = []
            self.validation_scores_ = [] if early_stopping else None
            self.best_loss_ = None if early_stopping else np.inf
            self.best_validation_score_ = -np.inf if early_stopping else None

        def progress(epoch, loss, metric, val_loss, val_metric, seconds):
            if self._regression:
                loss = loss / 2  # scikit-learn's squared_error: half the mean square
            self.loss_curve_.append(loss)
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (len(self.loss_curve_), loss))
            if incremental:
                return 0
            flags = 0
            if early_stopping:  # the validation score: accuracy, or R^2 for a regressor
                score = val_metric if not self._regression else 1.0 - val_loss / y_val_var
                self.validation_scores_.append(score)
                if self.verbose:
                    print("Validation score: %f" % score)
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    flags |= 2  # keep these weights
                if score < state["best"] + self.tol:
                    state["count"] += 1
                else:
                    state["count"] = 0
                state["best"] = max(state["best"], score) if np.isfinite(state["best"]) else score
            else:
                if loss > self.best_loss_ - self.tol:
                    state["count"] += 1
                else:
                    state["count"] = 0
                self.best_loss_ = min(self.best_loss_, loss)
            if state["count"] > self.n_iter_no_change:
                state["stopped"] = True
                if self.verbose:
                    what = "Validation score" if early_stopping else "Training loss"
                    print("%s did not improve more than tol=%f for %d consecutive epochs. Stopping."
                          % (what, self.tol, self.n_iter_no_change))
                flags |= 1
            return flags

        if early_stopping:
            state["best"] = -np.inf
        try:
            self.device_params_ = _clfit.fit(self._model, X, labels, targets, epochs, bool(self.shuffle), seed, vsplit,
                                             self.device, progress, bool(early_stopping))
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
            state["stopped"] = True
        info = _clfit.info(self._model)
        self.n_iter_ = info["epoch"]
        self.t_ = info["step"] * self._batch(n)
        if not incremental and not state["stopped"] and self.n_iter_ >= self.max_iter:
            warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the optimization hasn't "
                          "converged yet." % self.max_iter, ConvergenceWarning)

    def _seed(self):
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    # ---- what the model holds ----

    def _weights(self):
        check_is_fitted(self, "_model")
        raw = _clfit.to_bytes(self._model)
        (hlen,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + hlen])
        def tensor(name):
            e = header[name]
            a, b = e["data_offsets"]
            return np.frombuffer(raw, "<f4", (b - a) // 4, 8 + hlen + a).reshape(e["shape"]).astype(np.float64)
        layers = self.n_layers_ - 1
        return ([tensor("dense_%d.weight" % l) for l in range(layers)],
                [tensor("dense_%d.bias" % l) for l in range(layers)])

    @property
    def coefs_(self):
        """Each layer's weights (in, out), as scikit-learn's."""
        return self._weights()[0]

    @property
    def intercepts_(self):
        """Each layer's bias (out), as scikit-learn's."""
        return self._weights()[1]

    def _outputs(self, X):
        check_is_fitted(self, "_model")
        X = _validate_data(self, X, dtype=np.float32, order="C", reset=False)
        raw = _clfit.predict(self._model, X, self.device)
        return np.frombuffer(raw, np.float32).reshape(X.shape[0], self.n_outputs_).astype(np.float64)

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the estimator keeps its model
        model = state.pop("_model", None)
        if model is not None:
            state["_model_bytes"] = _clfit.to_bytes(model)
        return state

    def __setstate__(self, state):
        raw = state.pop("_model_bytes", None)
        super().__setstate__(state)
        if raw is not None:
            self._model = _clfit.from_bytes(raw)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """scikit-learn's MLPClassifier, trained by clfit: softmax cross-entropy over the classes
    (two or more, up to 256), Adam or SGD. See the module's notes for what differs."""

    def _encode(self, y):
        return np.searchsorted(self.classes_, y).astype(np.uint8)

    def fit(self, X, y):
        X, y = _validate_data(self, X, y, dtype=np.float32, order="C", reset=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("clfit's classifier needs 2 classes or more; y has %d class" % len(self.classes_))
        if len(self.classes_) > 256:
            raise ValueError("clfit's classifier takes at most 256 classes; y has %d" % len(self.classes_))
        labels = self._encode(y)
        seed = self._seed()
        if self.early_stopping:  # scikit-learn's split: stratified, then the validation rows last
            idx = np.arange(len(y))
            tr, va = train_test_split(idx, test_size=self.validation_fraction, stratify=labels,
                                      random_state=seed)
            order = np.concatenate([tr, va])
            X, labels = np.ascontiguousarray(X[order]), np.ascontiguousarray(labels[order])
        self._model = self._new_model(X.shape[1], len(self.classes_), self._batch(X.shape[0]), seed)
        self._train(X, labels, None, self.max_iter, self.early_stopping, seed)
        return self

    def partial_fit(self, X, y, classes=None):
        first = not hasattr(self, "_model")
        X, y = _validate_data(self, X, y, dtype=np.float32, order="C", reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = np.unique(classes)
            if not 2 <= len(self.classes_) <= 256:
                raise ValueError("clfit's classifier takes 2 to 256 classes; got %d" % len(self.classes_))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError("`classes=%r` is not the same as on the first call to partial_fit: %r"
                             % (classes, self.classes_))
        if not np.all(np.isin(y, self.classes_)):
            raise ValueError("y holds labels not in classes %r" % (self.classes_,))
        if first:
            self._model = self._new_model(X.shape[1], len(self.classes_), self._batch(X.shape[0]), self._seed())
            self.loss_curve_ = []
            self.best_loss_ = np.inf
        self._train(X, self._encode(y), None, 1, False, self._seed(), incremental=True)
        return self

    def predict_proba(self, X):
        """Each class's softmax probability, (n, classes), in classes_' order."""
        return self._outputs(X)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        out = self._outputs(X)  # first: a NotFittedError before fit
        return self.classes_[np.argmax(out, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """scikit-learn's MLPRegressor, trained by clfit: one linear output per target (y of
    shape (n,) or (n, targets)), mean squared error, Adam or SGD. The output bias starts at
    the targets' mean. See the module's notes for what differs."""

    _regression = True

    def _targets(self, y):
        t = np.asarray(y, dtype=np.float32)
        self._y_1d = t.ndim == 1
        return np.ascontiguousarray(t.reshape(t.shape[0], -1))

    def fit(self, X, y):
        X, y = _validate_data(self, X, y, dtype=np.float32, order="C", reset=True, multi_output=True, y_numeric=True)
        targets = self._targets(y)
        seed = self._seed()
        if self.early_stopping:
            tr, va = train_test_split(np.arange(len(targets)), test_size=self.validation_fraction, random_state=seed)
            order = np.concatenate([tr, va])
            X, targets = np.ascontiguousarray(X[order]), np.ascontiguousarray(targets[order])
        self._model = self._new_model(X.shape[1], targets.shape[1], self._batch(X.shape[0]), seed)
        n_train = X.shape[0] - (max(1, int(round(X.shape[0] * self.validation_fraction))) if self.early_stopping else 0)
        _clfit.center_outputs(self._model, targets[:n_train])
        self._train(X, None, targets, self.max_iter, self.early_stopping, seed)
        return self

    def __sklearn_tags__(self):  # scikit-learn >= 1.6: y may be (n, targets)
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # older scikit-learn
        return {"multioutput": True}

    def partial_fit(self, X, y):
        first = not hasattr(self, "_model")
        X, y = _validate_data(self, X, y, dtype=np.float32, order="C", reset=first, multi_output=True, y_numeric=True)
        one_d = np.asarray(y).ndim == 1
        targets = self._targets(y)
        if first:
            self._model = self._new_model(X.shape[1], targets.shape[1], self._batch(X.shape[0]), self._seed())
            _clfit.center_outputs(self._model, targets)
            self.loss_curve_ = []
            self.best_loss_ = np.inf
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError("y has %d targets, the model estimates %d" % (targets.shape[1], self.n_outputs_))
        self._y_1d = one_d
        self._train(X, None, targets, 1, False, self._seed(), incremental=True)
        return self

    def predict(self, X):
        out = self._outputs(X)
        return out.ravel() if getattr(self, "_y_1d", False) and out.shape[1] == 1 else out
