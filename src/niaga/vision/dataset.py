"""Image datasets: a folder with a labels table, the images and a split, read into one frame; images decoded.

A dataset folder is one of three layouts, found by the files in it:

- **fashion** (Fashion Product Images): ``styles.csv`` (id, masterCategory, subCategory, articleType, gender, ...)
  and ``splits.csv`` (id, image, split), images under ``images/``.
- **grocery** (Grocery Store Dataset): ``labels.csv`` (image, top_category, coarse_class, fine_class,
  official_split) and ``classes.csv`` naming one iconic catalogue image per fine class. The *official* split
  is used, as published results use it.
- **generic**: ``labels.csv`` with an ``image`` column (a path relative to the folder), a ``split`` column (or a
  ``splits.csv`` joined on ``image``) and label columns named ``master``, ``sub``, ``article`` (coarse to fine)
  and ``gender``, any of them present.

Every layout becomes one frame with columns ``image`` (as the labels table names it), ``path`` (absolute),
``split`` and the label levels it has under niaga's names: ``master`` > ``sub`` > ``article`` (the category
tree, coarse to fine) and ``gender``. ``label_columns`` maps them back to the dataset's own column names.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from niaga.data.io import read_table, require_columns
from niaga.errors import DataError

#: the category tree, coarse to fine, then the labels outside it
LEVELS = ("master", "sub", "article")
HEADS = LEVELS + ("gender",)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
FASHION_COLUMNS = {"master": "masterCategory", "sub": "subCategory", "article": "articleType", "gender": "gender"}
#: attributes kept beside the labels where a layout has them (visual search learns colour; duplicates read titles)
ATTRIBUTES = ("colour", "title")
FASHION_ATTRIBUTES = {"colour": "baseColour", "title": "productDisplayName"}
GROCERY_COLUMNS = {"master": "top_category", "sub": "coarse_class", "article": "fine_class"}
#: other names a generic labels table may use for niaga's levels
ALIASES = {"master": ("master", "masterCategory", "top_category", "category"),
           "sub": ("sub", "subCategory", "coarse_class", "subcategory"),
           "article": ("article", "articleType", "fine_class", "product_type", "label"),
           "gender": ("gender",)}


@dataclass
class ImageDataset:
    root: Path
    layout: str
    table: pd.DataFrame
    label_columns: dict[str, str]
    #: catalogue images to search among (grocery: the iconic images), same columns as ``table`` but split
    catalogue: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def levels(self) -> list[str]:
        return [level for level in LEVELS if level in self.table.columns]

    @property
    def heads(self) -> list[str]:
        return [head for head in HEADS if head in self.table.columns]

    def split(self, name: str) -> pd.DataFrame:
        rows = self.table[self.table["split"] == name]
        if rows.empty:
            have = ", ".join(sorted(self.table["split"].unique()))
            raise DataError(f"{self.root}: no images in split {name!r}; splits present: {have}")
        return rows.reset_index(drop=True)


def _read_csv(path: Path) -> pd.DataFrame:
    return read_table(path, dtype=str, keep_default_na=False)


def read_dataset(root: str | Path) -> ImageDataset:
    """The dataset in folder ``root`` (fashion, grocery or generic layout); DataError naming what is missing."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"{root}: no such directory")
    if not root.is_dir():
        raise DataError(f"{root}: is a file, expected a dataset folder (labels CSV + images + splits)")
    if (root / "styles.csv").exists() and (root / "splits.csv").exists():
        return _read_fashion(root)
    if (root / "labels.csv").exists() and (root / "classes.csv").exists():
        return _read_grocery(root)
    if (root / "labels.csv").exists():
        return _read_generic(root)
    raise DataError(f"{root}: not a dataset folder: expected styles.csv + splits.csv (fashion layout), labels.csv + "
                    "classes.csv (grocery layout) or labels.csv with image, split and label columns")


def _finish(root: Path, layout: str, table: pd.DataFrame, columns: dict[str, str], catalogue=None) -> ImageDataset:
    table = table.copy()
    table["path"] = [str(root / p) for p in table["image"]]
    keep = ["image", "path", "split"] + [h for h in HEADS + ATTRIBUTES if h in table.columns]
    for head in HEADS:
        if head in table.columns:
            table[head] = table[head].astype(str).str.strip()
    return ImageDataset(root, layout, table[keep].reset_index(drop=True), columns, catalogue)


def _read_fashion(root: Path) -> ImageDataset:
    styles, splits = _read_csv(root / "styles.csv"), _read_csv(root / "splits.csv")
    require_columns(styles, ["id", *FASHION_COLUMNS.values()], root / "styles.csv")
    require_columns(splits, ["id", "image", "split"], root / "splits.csv")
    attributes = {k: v for k, v in FASHION_ATTRIBUTES.items() if v in styles.columns}
    labels = styles[["id", *FASHION_COLUMNS.values(), *attributes.values()]].drop_duplicates("id")
    table = splits[["id", "image", "split"]].merge(labels, on="id", how="left", validate="many_to_one")
    missing = table[FASHION_COLUMNS["article"]].isna()
    if missing.any():
        raise DataError(f"{root / 'splits.csv'}: {int(missing.sum())} image(s) have no row in styles.csv, "
                        f"e.g. id {table.loc[missing, 'id'].iloc[0]}")
    table = table.rename(columns={v: k for k, v in {**FASHION_COLUMNS, **attributes}.items()})
    return _finish(root, "fashion", table, dict(FASHION_COLUMNS))


def _read_grocery(root: Path) -> ImageDataset:
    labels = _read_csv(root / "labels.csv")
    split_col = "official_split" if "official_split" in labels.columns else "split"
    require_columns(labels, ["image", split_col, *GROCERY_COLUMNS.values()], root / "labels.csv")
    table = labels.rename(columns={split_col: "split", **{v: k for k, v in GROCERY_COLUMNS.items()}})
    tree = table.drop_duplicates("article").set_index("article")[["master", "sub"]]
    classes = _read_csv(root / "classes.csv")
    name_col = next((c for c in classes.columns if c.lower().startswith("class name")), classes.columns[0])
    icon_col = next((c for c in classes.columns if "iconic" in c.lower()), None)
    catalogue = None
    if icon_col is not None:
        rows = [{"image": str(icon).lstrip("/"), "article": name} for name, icon in zip(classes[name_col],
                                                                                         classes[icon_col])
                if name in tree.index and icon]
        catalogue = pd.DataFrame(rows)
        catalogue["master"] = [tree.at[a, "master"] for a in catalogue["article"]]
        catalogue["sub"] = [tree.at[a, "sub"] for a in catalogue["article"]]
        catalogue["split"] = "catalogue"
        catalogue["path"] = [str(root / p) for p in catalogue["image"]]
        catalogue = catalogue[["image", "path", "split", "master", "sub", "article"]]
    return _finish(root, "grocery", table, dict(GROCERY_COLUMNS), catalogue)


def _read_generic(root: Path) -> ImageDataset:
    labels = _read_csv(root / "labels.csv")
    require_columns(labels, ["image"], root / "labels.csv")
    if "split" not in labels.columns:
        if not (root / "splits.csv").exists():
            raise DataError(f"{root / 'labels.csv'}: no 'split' column and no splits.csv beside it")
        splits = _read_csv(root / "splits.csv")
        require_columns(splits, ["image", "split"], root / "splits.csv")
        labels = labels.merge(splits[["image", "split"]], on="image", how="left")
        labels["split"] = labels["split"].fillna("")
    columns = {}
    for head, names in ALIASES.items():
        found = next((n for n in names if n in labels.columns and n not in columns.values()), None)
        if found:
            columns[head] = found
    if not any(level in columns for level in LEVELS):
        raise DataError(f"{root / 'labels.csv'}: no label column; name them master, sub, article (coarse to fine) "
                        "and/or gender")
    table = labels[["image", "split", *columns.values()]].rename(columns={v: k for k, v in columns.items()})
    return _finish(root, "generic", table, columns)


# -- images to predict ------------------------------------------------------------------------------------

IMAGE_COLUMNS = ("image", "path", "file", "filename", "image_path", "file_name")


def list_directory(directory: Path) -> pd.DataFrame:
    """Every file under ``directory`` (hidden ones aside), sorted: a non-image file gets its row too, so the
    output says why it has no labels. ``image`` is the path relative to ``directory``."""
    files = sorted(p for p in directory.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(directory).parts))
    return pd.DataFrame({"image": [p.relative_to(directory).as_posix() for p in files],
                         "path": [str(p) for p in files]})


def resolve_input(source: str | Path, image_col: str | None = None, image_root: str | Path | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The images a predict reads: (frame with ``image`` and ``path``, the input table or None).

    ``source``: a folder (every file in it, recursively), one image file, or a table with a column naming the images (``image``,
    ``path``, ``file`` ...; or ``id``, read as ``images/<id>.jpg``). A relative path in the table is looked up
    under ``image_root``, then beside the table, then in its ``images/`` folder, then from the working directory.
    """
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source}: no such file or directory")
    if source.is_dir():
        frame = list_directory(source)
        if frame.empty:
            raise DataError(f"{source}: the folder holds no files")
        return frame, None
    if source.suffix.lower() in IMAGE_SUFFIXES:  # one photo
        return pd.DataFrame({"image": [source.name], "path": [str(source)]}), None
    table = read_table(source, dtype=str, keep_default_na=False)
    column = image_col or next((c for c in IMAGE_COLUMNS if c in table.columns), None)
    if column is None and "id" in table.columns:
        references = [f"images/{i}.jpg" for i in table["id"].astype(str)]
    elif column is None or column not in table.columns:
        have = ", ".join(map(str, table.columns[:20]))
        raise DataError(f"{source}: no image column ({image_col or ' / '.join(IMAGE_COLUMNS)}, or id); "
                        f"columns present: {have}")
    else:
        references = table[column].astype(str).tolist()
    bases = [Path(image_root)] if image_root else []
    bases += [source.parent, source.parent / "images", Path.cwd()]
    paths = []
    for ref in references:
        candidate = Path(ref).expanduser()
        if not candidate.is_absolute():
            candidate = next((b / ref for b in bases if (b / ref).exists()), bases[0] / ref)
        paths.append(str(candidate))
    return pd.DataFrame({"image": references, "path": paths}), table


# -- decoding ---------------------------------------------------------------------------------------------

def read_image(path: str | Path, size: tuple[int, int] | None) -> np.ndarray:
    """An RGB image as uint8 (height, width, 3), fitted into ``size`` = (height, width) keeping its aspect ratio
    and padded with its edge pixels; raises ValueError with a short reason for a file that is not a readable
    image."""

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError("file not found") from None
    except IsADirectoryError:
        raise ValueError("is a directory") from None
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or exc})") from None
    return decode_image(data, size)


def decode_image(data: bytes, size: tuple[int, int] | None) -> np.ndarray:
    """``read_image`` for bytes already in memory (an upload)."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ValueError("empty file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = image.convert("RGB")
    except UnidentifiedImageError:
        raise ValueError("not an image (no image format recognised)") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise ValueError(f"corrupt image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    except Image.DecompressionBombError:
        raise ValueError("image too large") from None
    if size is None or image.size == (size[1], size[0]):
        return np.asarray(image, dtype=np.uint8)
    height, width = size
    scale = min(height / image.height, width / image.width)
    new = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    array = np.asarray(image.resize(new, Image.BILINEAR), dtype=np.uint8)
    top, left = (height - new[1]) // 2, (width - new[0]) // 2
    return np.pad(array, ((top, height - new[1] - top), (left, width - new[0] - left), (0, 0)), mode="edge")


def load_images(paths: Sequence[str], size: tuple[int, int], workers: int | None = None,
                progress: bool = False, desc: str = "reading images") -> tuple[np.ndarray, list[str]]:
    """Decode ``paths`` into one uint8 array (n, height, width, 3); an unreadable file gives a zero image and
    its reason in the returned errors ("" where the image was read). Threads: PIL decodes outside the GIL."""
    from tqdm.auto import tqdm

    out = np.zeros((len(paths), size[0], size[1], 3), dtype=np.uint8)
    errors = [""] * len(paths)

    def work(i: int) -> None:
        try:
            out[i] = read_image(paths[i], size)
        except ValueError as exc:
            errors[i] = str(exc)

    workers = workers or min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(workers) as pool:
        list(tqdm(pool.map(work, range(len(paths))), total=len(paths), desc=desc, unit="img", disable=not progress,
                  leave=False, mininterval=1.0))
    return out, errors


def image_sizes(paths: Iterable[str], limit: int = 500) -> tuple[int, int]:
    """The most common (height, width) among the first ``limit`` readable images: the size a model trains at."""
    from collections import Counter

    from PIL import Image

    counts = Counter()
    for path in list(paths)[:limit]:
        try:
            with Image.open(path) as image:
                counts[(image.height, image.width)] += 1
        except (OSError, ValueError, SyntaxError):
            continue
    if not counts:
        raise DataError("no readable image among the first images of the training split")
    return counts.most_common(1)[0][0]
