"""What convolutional networks see: the seeds' pictures and tables, computed.

1. Seed 002's classic 3x3 filters (vertical, horizontal and diagonal edges, Gaussian blur,
   sharpen) applied with nnlab's ``conv2d`` to a photograph (scikit-learn's ``china.jpg`` in
   grayscale) and to a handwritten digit.
2. Seed 002's pooling example: a 4x4 array after 2x2 max and average pooling.
3. A small CNN trained on the 8x8 digits (``cnn_digits.digits_cnn``, a few epochs): its
   first layer's learned filters and the feature maps of every convolution and pooling
   layer for one test digit.
4. Receptive fields, layer by layer, of LeNet-5 (28x28) and of seed 001's CIFAR network
   (32x32), plus the small VGG and ResNet of the zoo.
5. ``summary()`` (output shapes and parameter counts) of every model of the zoo.
"""

from nnlab import visualize
from nnlab.data import load_digits_images
from nnlab.experiments import cnn_digits
from nnlab.experiments.common import output_dir, summary_row
from nnlab.models import cifar_cnn, lenet5, receptive_field, small_resnet, small_vgg

TRAIN_EPOCHS, QUICK_TRAIN_EPOCHS = 15, 3
ZOO = {
    "lenet5": (lenet5, (1, 28, 28)),
    "cifar_cnn": (cifar_cnn, (3, 32, 32)),
    "small_vgg": (small_vgg, (3, 32, 32)),
    "small_resnet": (small_resnet, (3, 32, 32)),
}


def _figures(out, data, seed, epochs) -> tuple[dict, dict]:
    x_train, x_test, y_train, y_test = data
    images = {"china.jpg (grayscale)": visualize.sample_grayscale(), "digit": x_test[0, 0]}
    model = cnn_digits.digits_cnn(seed)
    cnn_digits.train(model, x_train, y_train, epochs=epochs, seed=seed)
    test_accuracy = cnn_digits.accuracy(model, x_test, y_test)
    print(f"digits CNN for the feature maps: {epochs} epochs, test accuracy {test_accuracy:.4f}")
    plots = {
        "classic_filters": out / "classic_filters.png",
        "pooling": out / "pooling.png",
        "learned_filters": out / "learned_filters.png",
        "feature_maps": out / "feature_maps.png",
    }
    visualize.plot_filters_applied(images, path=plots["classic_filters"])
    visualize.plot_pooling_example(path=plots["pooling"])
    visualize.plot_learned_filters(model.layers[0], path=plots["learned_filters"])
    visualize.plot_feature_maps(model, x_test[0], path=plots["feature_maps"])
    return plots, {"feature_model_test_accuracy": test_accuracy, "feature_model_epochs": epochs}


def _receptive_fields(models: dict) -> dict:
    fields = {}
    for name, model in models.items():
        shape = ZOO[name][1]
        table = receptive_field(model, shape)
        spatial = [row for row in table if row.kind in ("conv", "pool")]
        fields[name] = {
            "table": table,
            "last_spatial_field": spatial[-1].field if spatial else None,
        }
        print(f"\nreceptive field of {name} on {shape[1]}x{shape[2]} inputs")
        print(table)
    return fields


def run(out_dir="outputs/cnn_filters", quick: bool = False, seed: int = 0) -> dict:
    """Write the figures, print the receptive-field tables and the zoo's summaries."""
    out = output_dir(out_dir)
    data = load_digits_images()
    epochs = QUICK_TRAIN_EPOCHS if quick else TRAIN_EPOCHS
    plots, metrics = _figures(out, data, seed, epochs)
    models = {name: builder(input_shape=shape, seed=seed) for name, (builder, shape) in ZOO.items()}
    fields = _receptive_fields(models)
    params = {}
    for name, model in models.items():
        print()
        model.summary()
        params[name] = sum(p.size for p in model.parameters())
    lenet_rf = fields["lenet5"]["last_spatial_field"]
    cifar_rf = fields["cifar_cnn"]["last_spatial_field"]
    summary = [
        summary_row(
            "receptive field after the last conv/pool: LeNet-5 / seed CIFAR CNN",
            f"{lenet_rf[0]} / {cifar_rf[0]} pixels",
            "-",
        ),
        summary_row(
            "zoo parameters: " + " / ".join(params),
            " / ".join(f"{n:,d}" for n in params.values()),
            "-",
        ),
    ]
    return {
        "name": "cnn_filters",
        "metrics": {
            **metrics,
            "parameters": params,
            "receptive_fields": {k: v["last_spatial_field"] for k, v in fields.items()},
        },
        "tables": {k: v["table"] for k, v in fields.items()},
        "summary": summary,
        "plots": {k: str(v) for k, v in plots.items()},
    }


def main() -> None:
    run()


if __name__ == "__main__":
    main()
