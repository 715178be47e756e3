"""The optimized inference pipeline: ONNX export, int8 quantization, onnxruntime, batched prediction.

At the end of training the network is exported to ONNX with its preprocessing and flip test-time augmentation
inside the graph (uint8 NHWC images in; probabilities per head and the L2-normalized embedding out), then
quantized to int8 twice with onnxruntime:

- **dynamic** (``network.int8.onnx``): weights int8, activations quantized on the fly per batch. No calibration,
  but onnxruntime runs its convolutions as ConvInteger, which on this CPU is several times *slower* than float.
- **static** (``network.int8-static.onnx``): weights and activations int8 with ranges calibrated on training
  images (percentile ranges), in QDQ form that onnxruntime fuses into QLinearConv (VNNI): the fast one. Only the convolutions are
  quantized; the heads and softmax stay float, so confidences keep their resolution.

Each runtime (torch, ONNX float, both int8) is timed on the same validation images and each int8 model is
checked against float: it is used only when its labels agree on at least ``MIN_AGREEMENT`` of the images.
``deployment.json`` records the timings, the agreement and the fastest usable runtime; ``Runner`` uses that
one (or the one asked for) and says which. Without onnx / onnxruntime installed everything runs in torch.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from niaga.errors import NiagaError

ONNX_FILE = "network.onnx"
INT8_FILE = "network.int8.onnx"
STATIC_FILE = "network.int8-static.onnx"
DEPLOY_FILE = "deployment.json"
RUNTIMES = ("auto", "torch", "onnx", "onnx-int8", "onnx-int8-static")
FILES = {"onnx": ONNX_FILE, "onnx-int8": INT8_FILE, "onnx-int8-static": STATIC_FILE}
MIN_AGREEMENT = 0.99
BATCH = 256


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def export_onnx(model) -> bytes:
    """The model's network with preprocessing and flip TTA, as ONNX bytes (batch size dynamic)."""
    return _export(copy.deepcopy(model.module_), model.mean_, model.std_, tuple(model.image_size_),
                   bool(model.flip_tta))


def onnx_bytes_for(net, size: tuple[int, int], flip_tta: bool) -> bytes:
    """ONNX bytes of an (untrained) network as ``export_onnx`` would write it: to time what export will cost."""
    return _export(net, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], tuple(size), flip_tta)


def _export(net, mean, std, size: tuple[int, int], flip_tta: bool) -> bytes:
    import torch

    from niaga.vision.network import ExportWrapper

    wrapper = ExportWrapper(net.float().eval(), mean, std, flip_tta).eval()
    height, width = size
    example = torch.zeros((2, height, width, 3), dtype=torch.uint8)
    names = list(net.head_names) + ["embedding"]
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False):
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice: it still serves plain CNNs
        torch.onnx.export(wrapper, (example,), buffer, input_names=["images"], output_names=names,
                          dynamic_axes={"images": {0: "batch"}, **{n: {0: "batch"} for n in names}},
                          opset_version=17, dynamo=False)
    return _inline_identities(buffer.getvalue())


def _inline_identities(data: bytes) -> bytes:
    """The exporter shares equal weight tensors through Identity nodes (zero-initialised layers of an untrained or
    barely trained net); quantization wants every convolution's weight to be an initializer of its own."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    initializers = {i.name: i for i in model.graph.initializer}
    keep = []
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in initializers:
            copy_ = numpy_helper.from_array(numpy_helper.to_array(initializers[node.input[0]]), node.output[0])
            model.graph.initializer.append(copy_)
        else:
            keep.append(node)
    if len(keep) == len(model.graph.node):
        return data
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return model.SerializeToString()


def quantize_int8(onnx_bytes: bytes) -> bytes:
    """Dynamic int8 quantization (onnxruntime): weights stored as int8, activations quantized per batch."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(onnx_bytes)
        level = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # its "consider pre-processing" advice is for large models
        try:
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.getLogger().setLevel(level)
        return dst.read_bytes()


def quantize_static_int8(onnx_bytes: bytes, calibration: np.ndarray, batch: int = 32) -> bytes:
    """Static int8 quantization of the convolutions (QDQ, per-channel weights), activation ranges calibrated on
    ``calibration`` (uint8 training images)."""
    import logging

    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    batch = min(batch, len(calibration))
    usable = calibration[:len(calibration) // batch * batch]  # equal batches: the percentile histograms stack them

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"images": np.ascontiguousarray(usable[i:i + batch])}
                                 for i in range(0, len(usable), batch)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(onnx_bytes)
        level = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # its percentile calibration prints progress
                # reduce_range: 7-bit weights. Without VNNI (AVX2 and plain AVX-512 CPUs) onnxruntime multiplies
                # u8 x s8 pairs into saturating 16-bit sums: the 58-minute fashion model's labels agreed with float
                # on 65 % of val images at 8 bits, on 99.7 % at 7 bits, still 1.3x faster than float
                quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                                reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                                op_types_to_quantize=["Conv"],
                                # ranges at the 99.999th percentile: min-max ranges, stretched by a few outliers,
                                # changed 1.4 % of the fashion labels; percentile ones 0.8 %
                                calibrate_method=CalibrationMethod.Percentile)
        finally:
            logging.getLogger().setLevel(level)
        return dst.read_bytes()


def ort_session(data: bytes | str, threads: int | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # no busy-waiting between ops: on a machine shared with other jobs spinning threads slow everyone down
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


class Runner:
    """Batched inference with one runtime: ``run(images) -> (proba per head, embeddings)``.

    ``runtime``: "auto" (the fastest one measured at training, where its files are there), "torch", "onnx" or
    "onnx-int8". ``runtime_`` says which one runs.
    """

    def __init__(self, model, runtime: str = "auto", threads: int | None = None):
        if runtime not in RUNTIMES:
            raise NiagaError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
        self.model = model
        self.heads = list(model.module_.head_names)
        self.threads = threads
        files = dict(getattr(model, "deployment_files_", None) or {})
        directory = getattr(model, "model_dir_", None)
        for name in FILES.values():
            if name not in files and directory and (Path(directory) / name).exists():
                files[name] = str(Path(directory) / name)
        deployment = getattr(model, "deployment_", None) or {}
        if runtime == "auto":
            runtime = deployment.get("fastest", "torch")
            if runtime != "torch" and (not onnx_available() or _file_for(runtime) not in files):
                runtime = "onnx" if onnx_available() and ONNX_FILE in files else "torch"
        elif runtime != "torch":
            if not onnx_available():
                raise NiagaError("runtime " + runtime + " needs onnx and onnxruntime (pip install onnx onnxruntime)")
            if _file_for(runtime) not in files:
                raise NiagaError(f"{directory or 'the model'}: has no {_file_for(runtime)} (trained without onnx, "
                                 "or packaged without that runtime)")
        self.runtime_ = runtime
        self.session = ort_session(files[_file_for(runtime)], threads) if runtime != "torch" else None

    def run(self, images: np.ndarray, batch_size: int = BATCH) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if self.session is None:
            return self.model.predict_proba_levels(images), self.model.embed(images)
        proba = {h: [] for h in self.heads}
        embeddings = []
        for start in range(0, len(images), batch_size):
            outputs = self.session.run(None, {"images": np.ascontiguousarray(images[start:start + batch_size])})
            for head, out in zip(self.heads, outputs):
                proba[head].append(out)
            embeddings.append(outputs[-1])
        if not len(images):
            dim = self.model.module_.embedding_dim
            return ({h: np.zeros((0, len(self.model.classes_[h])), np.float32) for h in self.heads},
                    np.zeros((0, dim), np.float32))
        return {h: np.concatenate(v) for h, v in proba.items()}, np.concatenate(embeddings)


def _file_for(runtime: str) -> str:
    return FILES.get(runtime, "")


def images_per_second(runner: Runner, images: np.ndarray, repeats: int = 3, warm: bool = True) -> float:
    """Best of ``repeats`` passes over ``images`` in batches (after a small warm-up pass unless ``warm=False``)."""
    if warm:
        runner.run(images[:8])
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        runner.run(images)
        best = min(best, time.perf_counter() - start)
    return len(images) / best


def prepare_deployment(model, sample: np.ndarray, calibration: np.ndarray | None = None, log=None) -> dict:
    """Export ONNX float and int8 (dynamic; static when ``calibration`` images are given: training ones), time
    every runtime on ``sample`` (uint8 images, e.g. validation ones) and check int8 against float; store the
    files and the findings on the model (written by ``save_model``)."""
    info: dict = {"runtimes": {}, "sample_images": int(len(sample))}
    model.deployment_files_, model.deployment_ = {}, {}
    if not onnx_available():
        info["fastest"] = "torch"
        info["note"] = "onnx / onnxruntime not installed: torch only"
        model.deployment_ = info
        return info
    model.deployment_files_[ONNX_FILE] = export_onnx(model)
    model.deployment_files_[INT8_FILE] = quantize_int8(model.deployment_files_[ONNX_FILE])
    names = ["torch", "onnx", "onnx-int8"]
    if calibration is not None and len(calibration):
        try:
            model.deployment_files_[STATIC_FILE] = quantize_static_int8(model.deployment_files_[ONNX_FILE],
                                                                        calibration)
            names.append("onnx-int8-static")
        except Exception as exc:  # noqa: BLE001 - a failed calibration leaves the other runtimes usable
            info["static_int8_error"] = f"{type(exc).__name__}: {exc}"
            if log:
                log(f"niaga: note: static int8 quantization failed, left out ({type(exc).__name__}: {exc})")
    sample = sample[:BATCH]
    runners = {name: Runner(model, name) for name in names}
    reference = model.decode(runners["onnx"].run(sample)[0])
    for name, runner in runners.items():
        if name == "torch":  # same weights as ONNX float: agreement is 1 up to rounding; the slowest, timed briefly
            speed, agreement = images_per_second(runner, sample[:128], repeats=1), 1.0
        else:
            labels = reference if name == "onnx" else model.decode(runner.run(sample)[0])  # warms the session up
            agreement = float(np.mean([(labels[h].to_numpy() == reference[h].to_numpy()).mean()
                                       for h in model.classes_]))
            speed = images_per_second(runner, sample, repeats=1 if name == "onnx-int8" else 2, warm=False)
        info["runtimes"][name] = {"images_per_second": round(speed, 1),
                                  "label_agreement_with_onnx_float": round(agreement, 4),
                                  "file_bytes": len(model.deployment_files_.get(_file_for(name), b""))}
    usable = {n: r for n, r in info["runtimes"].items() if r["label_agreement_with_onnx_float"] >= MIN_AGREEMENT}
    info["fastest"] = max(usable, key=lambda n: usable[n]["images_per_second"])
    info["threads"] = int(os.cpu_count() or 1)
    model.deployment_ = info
    model.deployment_files_[DEPLOY_FILE] = json.dumps(info, indent=1).encode()
    if log:
        log("runtimes: " + ", ".join(f"{n} {r['images_per_second']:,.0f} img/s (agreement "
                                      f"{r['label_agreement_with_onnx_float']:.3f})" for n, r in info["runtimes"].items())
            + f"; predict uses {info['fastest']}")
    return info
