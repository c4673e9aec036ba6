"""Random image augmentation for NCHW batches, in the manner of Keras's ImageDataGenerator.

Every image of a batch gets its own affine map (rotation about the centre, zoom, shift,
flips); the whole batch is then resampled at once: the source coordinates of all output
pixels come from one broadcast expression and the pixel values from a handful of gathers
(four for bilinear interpolation), with no Python loop over images or pixels.

Geometry, in pixel coordinates ``(x, y)`` = (column, row) with row 0 at the top and the
centre ``c = ((W - 1) / 2, (H - 1) / 2)``. An output pixel ``p`` reads the input at

    src = c + F · Z · R(-theta) · (p - c - t)

with ``t = (tx, ty)`` the shift in pixels (positive moves the content right/down),
``R(-theta)`` undoing a counter-clockwise rotation by ``theta`` degrees (as ``np.rot90``
turns an array), ``Z = diag(zx, zy)`` the zoom (as in Keras, a factor below 1 enlarges the
content, above 1 shrinks it) and ``F = diag(±1, ±1)`` the flips.
"""

import numpy as np

from nnlab import backend

FILL_MODES = ("nearest", "constant", "reflect", "wrap")
INTERPOLATIONS = ("bilinear", "nearest")


class ImageAugmenter:
    """Random rotations, shifts, zooms and flips of image batches (NCHW, float).

    Args:
        rotation_range: degrees; each image turns by an angle drawn from
            [-rotation_range, rotation_range] (positive = counter-clockwise).
        width_shift_range, height_shift_range: fractions of the width/height; each image
            moves by a shift drawn from [-range, range] times the width/height.
        horizontal_flip, vertical_flip: flip each image with probability 1/2.
        zoom_range: a float z (zoom factors drawn from [1 - z, 1 + z], independently for
            x and y) or a pair (low, high).
        fill_mode: how points outside the input are filled: 'nearest' (edge pixel),
            'constant' (``cval``), 'reflect' (dcba|abcd|dcba) or 'wrap' (abcd|abcd|abcd).
        cval: the value of 'constant' filling.
        interpolation: 'bilinear' or 'nearest'.
        seed: seed or Generator of the random transforms and of ``flow``'s shuffling;
            default: the library's Generator. The same seed gives the same batches.

    Shape:
        x: (N, C, H, W) -> (N, C, H, W), same float dtype (integer input becomes float32).
    """

    def __init__(
        self,
        rotation_range=0.0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        zoom_range=0.0,
        fill_mode="nearest",
        cval=0.0,
        interpolation="bilinear",
        seed=None,
    ):
        if rotation_range < 0:
            raise ValueError(f"rotation_range must be >= 0 degrees, got {rotation_range}")
        for name, value in (("width", width_shift_range), ("height", height_shift_range)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"{name}_shift_range is a fraction of the image {name} in [0, 1], got {value}"
                )
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}"
            )
        self.rotation_range = float(rotation_range)
        self.width_shift_range = float(width_shift_range)
        self.height_shift_range = float(height_shift_range)
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        self.zoom_range = _zoom_bounds(zoom_range)
        self.fill_mode = fill_mode
        self.cval = float(cval)
        self.interpolation = interpolation
        self.rng = backend.get_generator(seed)

    def get_random_transform(self, shape) -> dict:
        """Draw one transform per image for a batch of ``shape`` (N, C, H, W).

        Returns:
            A dict of arrays of length N: 'theta' (degrees), 'tx', 'ty' (pixels), 'zx',
            'zy' (zoom factors), 'flip_horizontal', 'flip_vertical' (bools), for
            ``apply_transform``.
        """
        n, _, height, width = shape
        rng, zeros = self.rng, np.zeros(n)

        def symmetric(limit):
            return rng.uniform(-limit, limit, n) if limit else zeros

        low, high = self.zoom_range
        zx, zy = rng.uniform(low, high, (2, n)) if (low, high) != (1.0, 1.0) else (zeros + 1,) * 2
        no_flip = np.zeros(n, bool)
        return {
            "theta": symmetric(self.rotation_range),
            "tx": symmetric(self.width_shift_range) * width,
            "ty": symmetric(self.height_shift_range) * height,
            "zx": zx,
            "zy": zy,
            "flip_horizontal": rng.random(n) < 0.5 if self.horizontal_flip else no_flip,
            "flip_vertical": rng.random(n) < 0.5 if self.vertical_flip else no_flip,
        }

    def apply_transform(self, x, params: dict) -> np.ndarray:
        """Apply the transforms ``params`` (as from ``get_random_transform``; a missing key
        means no such transform, a scalar applies to every image) to the batch ``x``."""
        x = _as_images(x)
        n, channels, height, width = x.shape
        matrix, offset = _inverse_affine(params, n, height, width)
        rows, cols = np.indices((height, width), dtype=np.float64)
        # Source coordinates of every output pixel of every image: (N, H*W) each.
        src_x = matrix[:, 0, 0, None] * cols.ravel() + matrix[:, 0, 1, None] * rows.ravel()
        src_y = matrix[:, 1, 0, None] * cols.ravel() + matrix[:, 1, 1, None] * rows.ravel()
        src_x += offset[:, 0, None]
        src_y += offset[:, 1, None]
        flat = x.reshape(n, channels, height * width)
        if self.interpolation == "nearest":
            out = self._sample(flat, np.floor(src_x + 0.5), np.floor(src_y + 0.5), height, width)
        else:
            x0, y0 = np.floor(src_x), np.floor(src_y)
            fx = (src_x - x0).astype(x.dtype)[:, None]
            fy = (src_y - y0).astype(x.dtype)[:, None]
            top = self._sample(flat, x0, y0, height, width) * (1 - fx)
            top += self._sample(flat, x0 + 1, y0, height, width) * fx
            bottom = self._sample(flat, x0, y0 + 1, height, width) * (1 - fx)
            bottom += self._sample(flat, x0 + 1, y0 + 1, height, width) * fx
            out = top * (1 - fy) + bottom * fy
        return out.reshape(x.shape)

    def random_transform(self, x) -> np.ndarray:
        """The batch ``x`` with a freshly drawn random transform applied to each image."""
        x = _as_images(x)
        params = self.get_random_transform(x.shape)
        if self._is_identity(params):
            return x.copy()
        return self.apply_transform(x, params)

    def flow(self, x, y, batch_size=32, shuffle=True, sample_weight=None) -> "AugmentedBatches":
        """A batch source for ``Model.fit``: each epoch, the (reshuffled) samples in batches
        of ``batch_size``, every image freshly augmented; see ``AugmentedBatches``."""
        return AugmentedBatches(self, x, y, batch_size, shuffle, sample_weight)

    # ---- internals --------------------------------------------------------------------------
    @staticmethod
    def _is_identity(params) -> bool:
        return not (
            params["theta"].any()
            or params["tx"].any()
            or params["ty"].any()
            or (params["zx"] != 1).any()
            or (params["zy"] != 1).any()
            or params["flip_horizontal"].any()
            or params["flip_vertical"].any()
        )

    def _sample(self, flat, src_x, src_y, height, width) -> np.ndarray:
        """Pixel values of ``flat`` (N, C, H*W) at integer coordinates (N, H*W), filled per
        ``fill_mode`` outside the image; returns (N, C, H*W)."""
        ix, iy = src_x.astype(np.intp), src_y.astype(np.intp)
        inside = None
        if self.fill_mode == "constant":
            inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
            ix, iy = np.clip(ix, 0, width - 1), np.clip(iy, 0, height - 1)
        elif self.fill_mode == "nearest":
            ix, iy = np.clip(ix, 0, width - 1), np.clip(iy, 0, height - 1)
        elif self.fill_mode == "reflect":
            ix, iy = _reflect(ix, width), _reflect(iy, height)
        else:  # wrap
            ix, iy = ix % width, iy % height
        values = np.take_along_axis(flat, (iy * width + ix)[:, None, :], axis=2)
        if inside is not None:
            values = np.where(inside[:, None, :], values, flat.dtype.type(self.cval))
        return values


class AugmentedBatches:
    """Augmented mini-batches of (x, y[, sample_weight]), one epoch per iteration.

    ``len()`` is the number of batches per epoch; each ``iter()`` starts a new epoch, drawing
    a new order (when ``shuffle``) and new random transforms from the augmenter's Generator.
    Labels and weights stay with their images. ``Model.fit`` accepts it in place of (x, y).
    """

    def __init__(self, augmenter, x, y, batch_size=32, shuffle=True, sample_weight=None):
        x = np.asarray(x)
        _check_layout(x)
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"flow: x has {len(x)} images but y has {len(y)} labels")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)
            if len(sample_weight) != len(x):
                raise ValueError(
                    f"flow: x has {len(x)} images but sample_weight has {len(sample_weight)}"
                )
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        if len(x) == 0:
            raise ValueError("flow: no images to iterate over")
        self.augmenter, self.x, self.y = augmenter, x, y
        self.sample_weight = sample_weight
        self.batch_size, self.shuffle = int(batch_size), bool(shuffle)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        n = len(self.x)
        order = self.augmenter.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            index = order[start : start + self.batch_size]
            batch = (self.augmenter.random_transform(self.x[index]), self.y[index])
            if self.sample_weight is not None:
                batch += (self.sample_weight[index],)
            yield batch


def _inverse_affine(params: dict, n: int, height: int, width: int):
    """Per-image matrices (N, 2, 2) and offsets (N, 2) mapping output to input coordinates."""

    def get(key, default):
        return np.broadcast_to(np.asarray(params.get(key, default), dtype=np.float64), (n,))

    theta = np.deg2rad(get("theta", 0.0))
    cos, sin = np.cos(theta), np.sin(theta)
    zx, zy = get("zx", 1.0), get("zy", 1.0)
    fx = np.where(get("flip_horizontal", False) != 0, -1.0, 1.0)
    fy = np.where(get("flip_vertical", False) != 0, -1.0, 1.0)
    # F · Z · R(-theta): R(-theta) = [[cos, -sin], [sin, cos]] in (column, row) coordinates.
    matrix = np.empty((n, 2, 2))
    matrix[:, 0, 0], matrix[:, 0, 1] = fx * zx * cos, -fx * zx * sin
    matrix[:, 1, 0], matrix[:, 1, 1] = fy * zy * sin, fy * zy * cos
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    moved = centre + np.stack([get("tx", 0.0), get("ty", 0.0)], axis=1)
    offset = centre - np.einsum("nij,nj->ni", matrix, moved)
    return matrix, offset


def _reflect(index: np.ndarray, size: int) -> np.ndarray:
    index = index % (2 * size)
    return np.where(index >= size, 2 * size - 1 - index, index)


def _zoom_bounds(zoom_range) -> tuple:
    if np.isscalar(zoom_range):
        if not 0.0 <= zoom_range < 1.0:
            raise ValueError(
                f"zoom_range must be in [0, 1) or a pair (low, high), got {zoom_range}"
            )
        return 1.0 - float(zoom_range), 1.0 + float(zoom_range)
    low, high = (float(v) for v in zoom_range)
    if not 0.0 < low <= high:
        raise ValueError(f"zoom_range (low, high) needs 0 < low <= high, got {zoom_range}")
    return low, high


def _check_layout(x: np.ndarray) -> None:
    if x.ndim != 4:
        hint = " (add a channel axis for grey images: x[:, None])" if x.ndim == 3 else ""
        raise ValueError(
            f"ImageAugmenter expects a batch of NCHW images (N, C, H, W), got shape {x.shape}{hint}"
        )
    if x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
        raise ValueError(
            f"ImageAugmenter expects NCHW images (N, C, H, W), but shape {x.shape} looks like "
            "NHWC; convert with x.transpose(0, 3, 1, 2)"
        )


def _as_images(x) -> np.ndarray:
    x = np.asarray(x)
    _check_layout(x)
    if x.dtype.kind != "f":
        x = x.astype(backend.default_dtype())
    return x
