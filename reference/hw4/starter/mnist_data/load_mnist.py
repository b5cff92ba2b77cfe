from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import numpy
import gzip


def _read32(bytestream):
    dt = numpy.dtype(numpy.uint32).newbyteorder(">")
    return numpy.frombuffer(bytestream.read(4), dtype=dt)[0]


def extract_images(f):
    """Extract the images into a 4D uint8 numpy array [index, y, x, depth].

    Args:
        f: A file object that can be passed into a gzip reader.

    Returns:
        data: A 4D uint8 numpy array [index, y, x, depth].

    Raises:
        ValueError: If the bytestream does not start with 2051.
    """

    print("Extracting", f.name)

    with gzip.GzipFile(fileobj=f) as bytestream:
        magic = _read32(bytestream)

        if magic != 2051:
            raise ValueError("Invalid magic number %d in MNIST image file: %s" %
                             (magic, f.name))

        num_images = _read32(bytestream)
        rows = _read32(bytestream)
        cols = _read32(bytestream)

        buf = bytestream.read(rows * cols * num_images)

        data = numpy.frombuffer(buf, dtype=numpy.uint8)
        data = data.reshape(num_images, rows, cols, 1)

        return data


def dense_to_one_hot(labels_dense, num_classes):
    """Convert class labels from scalars to one-hot vectors."""

    num_labels = labels_dense.shape[0]
    index_offset = numpy.arange(num_labels) * num_classes

    labels_one_hot = numpy.zeros((num_labels, num_classes))
    labels_one_hot.flat[index_offset + labels_dense.ravel()] = 1

    return labels_one_hot


def extract_labels(f, one_hot=False, num_classes=10):
    """Extract the labels into a 1D uint8 numpy array [index].

    Args:
        f: A file object that can be passed into a gzip reader.
        one_hot: Does one hot encoding for the result.
        num_classes: Number of classes for the one hot encoding.

    Returns:
        labels: a 1D uint8 numpy array.

    Raises:
        ValueError: If the bystream doesn't start with 2049.
    """

    print("Extracting", f.name)

    with gzip.GzipFile(fileobj=f) as bytestream:
        magic = _read32(bytestream)

        if magic != 2049:
            raise ValueError("Invalid magic number %d in MNIST label file: %s" %
                             (magic, f.name))

        num_items = _read32(bytestream)

        buf = bytestream.read(num_items)

        labels = numpy.frombuffer(buf, dtype=numpy.uint8)

        if one_hot:
            return dense_to_one_hot(labels, num_classes)

        return labels


def read_data_sets(
    train_dir="mnist_data",
    one_hot=False,
    reshape=True,
    validation_size=5000,
    seed=None
):
    """Reads and parses examples from MNIST data files."""

    TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
    TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
    TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
    TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

    local_file = train_dir + "/" + TRAIN_IMAGES
    with open(local_file, "rb") as f:
        train_images = extract_images(f)

    local_file = train_dir + "/" + TRAIN_LABELS
    with open(local_file, "rb") as f:
        train_labels = extract_labels(f, one_hot=one_hot)

    local_file = train_dir + "/" + TEST_IMAGES
    with open(local_file, "rb") as f:
        test_images = extract_images(f)

    local_file = train_dir + "/" + TEST_LABELS
    with open(local_file, "rb") as f:
        test_labels = extract_labels(f, one_hot=one_hot)

    if not 0 <= validation_size <= len(train_images):
        raise ValueError(
            "Validation size should be between 0 and {}. Received: {}."
            .format(len(train_images), validation_size))

    validation_images = train_images[:validation_size]
    validation_labels = train_labels[:validation_size]
    train_images = train_images[validation_size:]
    train_labels = train_labels[validation_size:]

    return (train_images, train_labels, validation_images, validation_labels,
            test_images, test_labels)
