"""Evaluating trained models: the seeds' classification report (accuracy, precision, recall,
F1, confusion matrix, confidence analysis, prediction throughput) and regression metrics.

A "model" here is anything that predicts: an object with ``predict_proba(X)`` (preferred for
classifiers), one with ``predict(X)``, or a plain callable ``f(X)``. Classifier outputs may be
(N, C) class probabilities, (N,) or (N, 1) positive-class probabilities (one sigmoid output),
or integer class labels (then there is no confidence analysis).

scikit-learn computes the metrics; it is imported inside the functions that use it so that
``import nnlab`` stays fast.

The package: ``outputs`` (calling a model, reading its outputs), ``confidence`` (confidence
buckets), ``classification`` (the report) and ``regression``, each importing only the ones
before it; for autoencoders, ``image_quality`` (PSNR, SSIM), ``anomaly`` (reconstruction-error
anomaly detection) and ``pca_baseline``; for generative models, ``generative`` (judging
samples with a separately trained digits classifier).
"""

from nnlab.evaluation.anomaly import ReconstructionAnomalyDetector, auroc
from nnlab.evaluation.classification import ClassificationReport, evaluate_classifier
from nnlab.evaluation.confidence import ConfidenceAnalysis, ConfidenceBucket, confidence_buckets
from nnlab.evaluation.generative import DigitsJudge, SampleJudgement, judge_probabilities
from nnlab.evaluation.image_quality import psnr, ssim
from nnlab.evaluation.outputs import predict_outputs, split_outputs
from nnlab.evaluation.pca_baseline import pca_reconstruction_mse
from nnlab.evaluation.regression import evaluate_regressor, regression_metrics

__all__ = [
    "ClassificationReport",
    "ConfidenceAnalysis",
    "ConfidenceBucket",
    "DigitsJudge",
    "ReconstructionAnomalyDetector",
    "SampleJudgement",
    "auroc",
    "confidence_buckets",
    "evaluate_classifier",
    "evaluate_regressor",
    "judge_probabilities",
    "pca_reconstruction_mse",
    "predict_outputs",
    "psnr",
    "regression_metrics",
    "split_outputs",
    "ssim",
]
