"""Your own classes: a new last layer on a drawing network's frozen features (the Teachable Machine idea).

A student names 2 to 10 classes (shapes, letters, symbols), draws a few
examples of each, and a new head learns them in a fraction of a second. The
shipped network (by default the handwriting ConvNet, which learnt digits and
letters) is kept as it is (frozen): each example becomes the
network's penultimate features once (``heads.embedding_model``), and a
softmax regression, scikit-learn's ``LogisticRegression`` on the features
scaled to length 1 (``unit_rows``), is fitted on those features alone. No weight of the network
changes, so training again after one more drawing costs one pass through the
network for that drawing and none for the others.

The package, one job a module, each importing only those below it:

- ``zips``: export a project, import a zip of class folders, teach a project from a folder or a zip;
- ``scores``: held-out scores (cross-validation) and a 2-D map of the features;
- ``head``: the softmax-regression head, saved as JSON (``head-<model>.json`` in the project);
- ``feature_cache``: the frozen network's features, cached per example (``core.base.array_cache``);
- ``projects``: projects on disk, their classes and examples.
"""

from core.own_classes.feature_cache import embed, features
from core.own_classes.head import (
    HEAD_C,
    Head,
    heads_of,
    load_head,
    predict,
    save_head,
    train,
    train_head,
    unit_rows,
)
from core.own_classes.projects import (
    DEFAULT_MODEL,
    MAX_CLASSES,
    MIN_CLASSES,
    NETWORKS,
    SIDE,
    Project,
    ProjectError,
    add_example,
    can_change,
    can_open,
    check_classes,
    class_names,
    clean_name,
    counts,
    create_project,
    delete_project,
    example_files,
    examples,
    list_projects,
    project_dir,
    project_info,
    projects_dir,
    remove_example,
    repair_project,
    set_shared,
)
from core.own_classes.scores import feature_map, held_out
from core.own_classes.zips import (
    MAX_IMPORT_FILES,
    META_FOLDER,
    MIN_IMPORT_PER_CLASS,
    export_project,
    import_examples,
    read_source,
    teach,
)

__all__ = [
    "DEFAULT_MODEL", "HEAD_C", "MAX_CLASSES", "MAX_IMPORT_FILES", "META_FOLDER", "MIN_CLASSES",
    "MIN_IMPORT_PER_CLASS", "NETWORKS", "SIDE", "Head", "Project", "ProjectError", "add_example", "can_change",
    "can_open", "check_classes", "class_names", "clean_name", "counts", "create_project", "delete_project", "embed",
    "example_files", "examples", "export_project", "feature_map", "features", "heads_of", "held_out",
    "import_examples", "list_projects", "load_head", "predict", "project_dir", "project_info", "projects_dir",
    "read_source", "remove_example", "repair_project", "save_head", "set_shared", "teach", "train", "train_head",
    "unit_rows",
]
