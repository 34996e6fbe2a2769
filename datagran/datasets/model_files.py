"""Reading a skops model file that may come from anyone (`POST /api/models/import/`).

skops builds an object from a file by importing the types the file names and calling them,
so the file decides what runs. Before skops sees the file, this module reads its
`schema.json` with plain `json` and refuses it unless every node is one of the exact
(loader, type) pairs that the project's own trained models contain: no prefix of a package
is trusted (a prefix such as `builtins.` let a file call `builtins.exec`), no function, no
bound method, no `operator` callable. A zip member that would inflate beyond what a model
needs is refused before it is inflated. After loading, every decision tree is checked for
child and feature indices that point outside its arrays: scikit-learn follows them without
bounds checks, so a crafted tree would crash the process at its first prediction."""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from operators.errors import FieldError

if TYPE_CHECKING:  # scikit-learn is imported when a model is loaded, not at every start
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

# Every (skops loader, type) pair found in the models that model.train_classifier,
# model.train_regressor and model.cluster_kmeans write, for each of their algorithms
# (tests/operators/test_model_files.py checks that this stays so), plus NumPy's other
# numeric scalar types. Nothing else is constructed from an uploaded file.
_NUMPY_SCALARS = frozenset(f"numpy.{t}" for t in (
    "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "str_"))
TRUSTED_NODES: dict[str, frozenset[str]] = {
    "DictNode": frozenset({"builtins.dict"}),
    "ListNode": frozenset({"builtins.list"}),
    "TupleNode": frozenset({"builtins.tuple"}),
    "SliceNode": frozenset({"builtins.slice"}),
    "JsonNode": frozenset({"builtins.str"}),
    "TypeNode": frozenset({"builtins.str", "builtins.int", "builtins.float", "builtins.bool"})
    | _NUMPY_SCALARS,
    "NdArrayNode": frozenset({"numpy.ndarray"}) | _NUMPY_SCALARS,
    "DTypeNode": frozenset({"numpy.dtype"}),
    "RandomStateNode": frozenset({"numpy.random.mtrand.RandomState"}),
    "RandomGeneratorNode": frozenset({"numpy.random._generator.Generator"}),
    "TreeNode": frozenset({"sklearn.tree._tree.Tree"}),
    "LossNode": frozenset({"sklearn._loss._loss.CyHalfBinomialLoss",
                           "sklearn._loss._loss.CyHalfSquaredError"}),
    "ObjectNode": frozenset({
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.Interval",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn.cluster._kmeans.KMeans",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.dummy.DummyClassifier",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
        "sklearn.ensemble._gb.GradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
        "HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
        "HistGradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.linear_model._base.LinearRegression",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._ridge.Ridge",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.preprocessing._label.LabelEncoder",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
    }),
}
# A model file's members, inflated: far above any model the project trains (a 100-tree
# forest on a million rows is tens of MB), far below what would exhaust a server.
MAX_INFLATED_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 100_000
ERR_INFLATED = ("The model file would inflate to {size:,} bytes; the limit is "
                f"{MAX_INFLATED_BYTES:,} bytes.")
ERR_MEMBERS = f"The model file has more than {MAX_MEMBERS:,} members, the limit."
ERR_TREE = "The model file holds a decision tree whose {what} point outside the tree."


ERR_UNTRUSTED = "The model file needs types that are not trusted: {types}"
ERR_UNTRUSTED_TYPE = "not a trusted type: {type}"


class UntrustedModel(FieldError):
    """A model file naming types that are not trusted: ``fields["file"]`` has one message
    per type (ERR_UNTRUSTED_TYPE), so a form can list them."""

    def __init__(self, types: list[str]) -> None:
        super().__init__(ERR_UNTRUSTED.format(types=", ".join(types)),
                         {"file": [ERR_UNTRUSTED_TYPE.format(type=t) for t in types]})
        self.types = types


class BadModelFile(FieldError):
    """A model file refused for its shape (its size, a corrupt tree), with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"file: {reason}", {"file": [reason]})
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def node_types(schema: Any) -> Iterator[tuple[str, str]]:
    """Every (loader, type) pair a skops schema names, without importing anything. Walks
    every dict and list (iteratively: a file may nest deeper than Python's recursion
    limit), so a node hidden anywhere in the document is seen."""
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item or "__class__" in item or "__module__" in item:
                name = f"{item.get('__module__')}.{item.get('__class__')}"
                loader = str(item.get("__loader__"))
                if loader == "MethodNode":  # a bound method: what is called is the func
                    name += f".{(item.get('content') or {}).get('func')}"
                yield loader, name
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _schema(data: bytes) -> Any:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise BadModelFile(ERR_MEMBERS)
        inflated = sum(m.file_size for m in members)
        if inflated > MAX_INFLATED_BYTES:
            raise BadModelFile(ERR_INFLATED.format(size=inflated))
        return json.loads(archive.read("schema.json"))


def load_trusted(data: bytes) -> Any:
    """Load a skops file whose every node is a trusted (loader, type) pair; anything else
    is refused by name before skops constructs (or imports) anything."""
    refused = sorted({name for loader, name in node_types(_schema(data))
                      if name not in TRUSTED_NODES.get(loader, ())})
    if refused:
        raise UntrustedModel(refused)
    import skops.io as sio  # 1.5 s to import (it lists scikit-learn's types): on first use

    # skops audits again, against exactly the types this file was just checked to contain.
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    for tree, n_features in _trees(loaded):
        _check_tree(tree, n_features)
    return loaded


def _trees(obj: Any) -> Iterator[tuple[Tree | TreePredictor, int]]:
    """The trees inside a loaded model, each with the number of columns its nearest
    estimator checks a prediction's input for: through estimators' attributes, lists,
    tuples and dicts (a Pipeline's steps, a forest's estimators_, a boosting's predictors)."""
    from sklearn.base import BaseEstimator
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        item, n_features = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (Tree, TreePredictor)):
            yield item, n_features
        elif isinstance(item, BaseEstimator):
            inner = int(getattr(item, "n_features_in_", n_features))
            stack.extend((value, inner) for value in vars(item).values())
        elif isinstance(item, dict):
            stack.extend((value, n_features) for value in item.values())
        elif isinstance(item, (list, tuple)) or (isinstance(item, np.ndarray)
                                                 and item.dtype == object):
            stack.extend((value, n_features) for value in item)


def _check_tree(tree: Tree | TreePredictor, n_features: int) -> None:
    """Indices a prediction follows stay inside the tree and its input: children lie after
    their parent (no cycle) and before the end; features are columns of the input the
    estimator checked; category bitsets exist."""
    from sklearn.tree._tree import Tree

    if isinstance(tree, Tree):
        count = tree.node_count
        if not 0 < count <= tree.capacity or tree.n_features != n_features:
            raise BadModelFile(ERR_TREE.format(what="node count and arrays"))
        index = np.arange(count)
        left, right, feature = tree.children_left, tree.children_right, tree.feature
        leaf = left == -1
        checks = {"children": leaf & (right == -1) | ~leaf & (left > index) & (left < count)
                  & (right > index) & (right < count),
                  "features": leaf | (feature >= 0) & (feature < n_features)}
    else:
        nodes = tree.nodes
        count = len(nodes)
        if count == 0:
            raise BadModelFile(ERR_TREE.format(what="node count and arrays"))
        index = np.arange(count)
        leaf, cat = nodes["is_leaf"].astype(bool), nodes["is_categorical"].astype(bool)
        bitsets = min(len(tree.binned_left_cat_bitsets), len(tree.raw_left_cat_bitsets))
        checks = {"children": leaf | (nodes["left"] > index) & (nodes["left"] < count)
                  & (nodes["right"] > index) & (nodes["right"] < count),
                  "features": leaf | (nodes["feature_idx"] < n_features),
                  "category bitsets": leaf | ~cat | (nodes["bitset_idx"] < bitsets)}
    for what, ok in checks.items():
        if not np.all(ok):
            raise BadModelFile(ERR_TREE.format(what=what))
