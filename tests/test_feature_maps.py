import numpy as np
import pytest

from core.explain import feature_maps as fm
from core.images import preprocess
from core.nets import digits


@pytest.fixture(scope="module")
def net002():
    model = digits.build_net002()
    # Make the filters and biases non-trivial (random bias, both signs) so the comparison means something.
    conv = model.get_layer("conv1")
    conv.bias.assign(np.linspace(-0.2, 0.2, 10).astype(np.float32))
    return model


@pytest.fixture
def image(digit_gray):
    return preprocess.to_mnist(digit_gray).image


def test_filter_grid_has_one_panel_per_filter(net002):
    filters, bias, name, padding, relu = fm.first_layer_filters(net002)
    assert filters.shape == (10, 5, 5) and bias.shape == (10,) and name == "conv1" and padding == "valid"
    assert fm.first_layer_filters(digits.build_convnet())[0].shape == (32, 3, 3)
    for n, cols in ((10, 10), (32, 16), (10, 4)):  # the page's grid: every filter once, in order, gaps between
        maps = np.random.default_rng(n).normal(size=(n, 5, 5))
        grid = fm.tile(maps, cols)
        rows = -(-n // cols)
        assert grid.shape == (rows * 6 - 1, cols * 6 - 1)
        panels = [grid[r * 6 : r * 6 + 5, c * 6 : c * 6 + 5] for r in range(rows) for c in range(cols)]
        for k, panel in enumerate(panels):
            if k < n:
                np.testing.assert_array_equal(panel, maps[k])
            else:
                assert np.isnan(panel).all()  # the unused cells of the last row stay empty
        assert np.isnan(grid[5, :]).all() if rows > 1 else np.isnan(grid[:, 5]).all()


def test_feature_maps_equal_the_layers_direct_output(net002, image):
    names = ["conv1", "pool1", "relu1", "conv2"]
    maps = fm.feature_maps(fm.feature_model(net002, names), image)
    x = image.reshape(1, 28, 28, 1)
    import keras

    # The same outputs computed directly: each layer called in turn on the previous one's output.
    direct, out = {}, keras.ops.convert_to_tensor(x)
    for layer in net002.layers[1:]:
        out = layer(out, training=False)
        direct[layer.name] = np.asarray(out)[0]
    for name, got in zip(names, maps):
        assert got.shape == direct[name].shape
        np.testing.assert_allclose(got, direct[name], atol=1e-5)


def test_filter2d_with_bias_and_relu_reproduces_the_first_conv_layer(net002, image):
    filters, bias, *_ = fm.first_layer_filters(net002)
    conv1, relu_after_pool = fm.feature_maps(fm.feature_model(net002, ["conv1", "relu1"]), image)
    for k in range(10):
        by_hand = fm.filter2d(image, filters[k], bias[k])
        assert by_hand.shape == (24, 24)  # a 'valid' 5x5 convolution of 28x28
        np.testing.assert_allclose(by_hand, conv1[..., k], atol=1e-4)
        # and through ReLU then 2x2 max-pooling: the network's pool1 + relu1 output
        pooled = np.maximum(fm.filter2d(image, filters[k], bias[k], relu=True).reshape(12, 2, 12, 2).max((1, 3)), 0)
        np.testing.assert_allclose(pooled, relu_after_pool[..., k], atol=1e-4)


def test_filter2d_same_padding_reproduces_the_resnet_stem(image):
    net = digits.build_resnet()
    filters, bias, name, padding, _ = fm.first_layer_filters(net)
    assert padding == "same" and not bias.any()  # the stem has no bias: batch norm follows it
    (stem,) = fm.feature_maps(fm.feature_model(net, [name]), image)
    for k in range(0, len(filters), 7):
        by_hand = fm.filter2d(image, filters[k], bias[k], padding="same")
        assert by_hand.shape == (28, 28)
        np.testing.assert_allclose(by_hand, stem[..., k], atol=1e-4)
    with pytest.raises(ValueError, match="padding"):
        fm.filter2d(image, filters[0], padding="full")


def test_map_layers_lists_shapes_and_params(net002):
    infos = {i.name: i for i in fm.map_layers(net002)}
    assert infos["conv1"].output_shape == (24, 24, 10) and infos["conv1"].params == 260
    assert infos["conv2"].params == 5020 and infos["pool2"].output_shape == (4, 4, 20)
    assert "fc1" not in infos  # dense layers have no 2-D maps


def test_dense_templates_only_for_pixel_reading_dense_layers():
    t = fm.dense_templates(digits.build_dnn())
    assert t.shape == (1024, 28, 28)
    assert fm.dense_templates(digits.build_convnet()) is None
    with pytest.raises(ValueError, match="no convolution"):
        fm.first_layer_filters(digits.build_dnn())


def test_shipped_net002_is_trained():
    from core.data import datasets
    from core.nets.inference import Predictor

    (_, _), (x_test, y_test) = datasets.load_mnist(download=False)
    probs = Predictor.load("net002").predict_batch(x_test[:1000] / 255.0)
    assert (probs.argmax(1) == y_test[:1000]).mean() > 0.97


def test_diverging_colours_centre_on_zero_and_keep_gaps_white():
    from core.base import colormap

    rgb = colormap.diverging(np.array([[-2.0, 0.0, 2.0, np.nan, 1.0]]))
    assert rgb.shape == (1, 5, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (33, 102, 172) and tuple(rgb[0, 2]) == (178, 24, 43)  # full blue, full red
    assert tuple(rgb[0, 1]) == (247, 247, 247) and tuple(rgb[0, 3]) == (255, 255, 255)
    assert rgb[0, 4, 0] > rgb[0, 4, 2]  # half-way to red
    assert tuple(colormap.diverging(np.array([[3.0]]), zmax=1.0)[0, 0]) == (178, 24, 43)  # clipped
    assert colormap.enlarge(rgb, 50).shape == (10, 50, 3)


def test_upsample_nearest_puts_each_weight_in_a_block():
    filters = np.arange(2 * 5 * 5, dtype=float).reshape(2, 5, 5)
    big = fm.upsample_nearest(filters, 24, 24)
    assert big.shape == (2, 24, 24)
    assert big[1, 0, 0] == filters[1, 0, 0] and big[1, 23, 23] == filters[1, 4, 4]
    assert set(np.unique(big[0])) == set(np.unique(filters[0]))


def test_strongest_map_picks_the_most_active_channel_scaled_to_one():
    maps = np.zeros((4, 4, 3))
    maps[..., 0] = 0.5
    maps[1, 1, 1] = 4.0  # the highest single value, but a low mean
    maps[..., 2] = 1.0
    maps[0, 0, 2] = 3.0
    best = fm.strongest_map(maps)
    assert best.max() == 1.0 and best[0, 0] == 1.0 and best[1, 1] == pytest.approx(1 / 3)
    assert not fm.strongest_map(np.full((2, 2, 1), -1.0)).any()  # a dead channel stays dark


def test_first_layer_maps_match_a_conv_with_its_own_relu(image):
    import keras

    inputs = keras.Input((28, 28, 1))
    net = keras.Model(inputs, keras.layers.Conv2D(4, 3, activation="relu", name="c")(inputs))
    net.get_layer("c").bias.assign(np.array([-0.3, -0.1, 0.1, 0.3], np.float32))
    first = fm.first_layer_filters(net)
    assert first.relu
    (output,) = fm.feature_maps(fm.feature_model(net, ["c"]), image)
    maps = fm.first_layer_maps(first, output, image)
    assert maps.network.shape == maps.by_hand.shape == (4, 26, 26)
    assert maps.by_hand.min() == 0.0 and maps.largest_difference < 1e-4
    # Without the ReLU the hand-made maps go negative and no longer match: the check can fail.
    plain = fm.first_layer_maps(first._replace(relu=False), output, image)
    assert plain.largest_difference > 0.05


def test_flow_layers_run_from_the_stem_to_the_last_block():
    flow = fm.flow_layers(digits.build_resnet())
    names = [i.name for i in flow]
    assert names[0] == "stem_conv" and names[-1] == "stage2_id_add"
    assert any(i.output_shape[:2] == (7, 7) for i in flow)  # the second stage is in the strip
    assert not any("_conv2" in n for n in names)  # no convolutions from inside the blocks
    thin = fm.flow_layers(digits.build_convnet(), max_layers=3)
    assert [i.name for i in thin] == ["conv1_1", "pool1", "pool2"]


def test_layer_notes_speak_of_each_layer_from_its_shapes_and_output(image):
    """A residual network's layers, described from the layers themselves: a strided convolution's sizes, a
    residual sum's two inputs, ReLU's share of zeros for this digit (counted), pooling's patch."""
    from core.explain import layer_notes
    from core.nets import registry

    net = registry.load("resnet")
    kinds = {type(layer).__name__: layer for layer in net.layers}
    add = net.get_layer("stage1_conv_add")
    assert layer_notes.note(add).startswith("A residual sum: `stage1_conv_proj_bn` and `stage1_conv_bn3` added")
    strided = next(layer for layer in net.layers if type(layer).__name__ == "Conv2D" and layer.strides != (1, 1))
    h_in, h_out = strided.input.shape[1], strided.output.shape[1]
    assert f"a stride of 2 takes the maps from {h_in}x{h_in} to {h_out}x{h_out}" in layer_notes.note(strided)
    relu = net.get_layer("stem_relu")
    (out,) = fm.feature_maps(fm.feature_model(net, [relu.name]), image)
    share = float(np.mean(out == 0))
    assert 0 < share < 1 and f"For your digit {share:.0%} of its values are 0." in layer_notes.note(relu, out)
    assert "from 28x28 to 14x14" in layer_notes.note(net.get_layer("stem_pool"))
    assert layer_notes.note(kinds["Dense"]).startswith("A dense layer: each of its 10 units weighs all 256 values")
    assert layer_notes.on_to_relu(net, "stem_conv") == [
        "batch normalisation shifts and scales each map (`stem_bn`)", "ReLU (`stem_relu`) keeps only the red"]
    assert layer_notes.on_to_relu(net, "stage1_conv_add") == ["ReLU (`stage1_conv_out`) keeps only the red"]
