"""PyTorch definitions of the zoo models convscope defines itself from the papers.

lenet5, lenet5_1998, alexnet_2012, googlenet_2014 and se_googlenet have no
library reference, so they are defined here. For each, the state_dict keys and
shapes equal the C graph's "<node>.<param>" tensors, module paths equal the
graph's node names (forward hooks fetch any intermediate), and the eval-mode
forward returns what the graph's last node computes. build() also constructs
the torchvision models of the same families exactly as the zoo expects them.

    from cs_reference import build
    model = build("googlenet_2014").eval()           # default classes and input
    model = build("alexnet_2012", in_hw=(99, 99))     # the classifier depends on the input
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# LeNet-5
# ---------------------------------------------------------------------------

# LeCun et al. 1998, Table I: rows are S2 maps, columns C3 maps; 1 where the C3
# map reads the S2 map. Maps 0-5 read 3 contiguous S2 maps, 6-11 read 4
# contiguous, 12-14 read 4 non-contiguous, 15 reads all six.
C3_TABLE = (
    (1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1),
    (1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1),
    (1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1),
    (0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1),
    (0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1),
    (0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1),
)


def _lenet_c5_size(in_hw):
    """Spatial size of C5's output: 5x5 convs and 2x2/2 pools, no padding."""
    h, w = in_hw
    for _ in range(2):
        h, w = (h - 4) // 2, (w - 4) // 2
    h, w = h - 4, w - 4
    if h < 1 or w < 1:
        raise ValueError(f"LeNet-5 needs an input of at least 32x32, got {in_hw[0]}x{in_hw[1]}")
    return h, w


class LeNet5(nn.Module):
    """Modern LeNet-5: tanh, plain average pooling, full C3, softmax output."""

    def __init__(self, num_classes=10, in_hw=(32, 32)):
        super().__init__()
        h, w = _lenet_c5_size(in_hw)
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c1_act = nn.Tanh()
        self.s2 = nn.AvgPool2d(2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c3_act = nn.Tanh()
        self.s4 = nn.AvgPool2d(2)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.c5_act = nn.Tanh()
        self.f6 = nn.Linear(120 * h * w, 84)
        self.f6_act = nn.Tanh()
        self.output = nn.Linear(84, num_classes)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.s2(self.c1_act(self.c1(x)))
        x = self.s4(self.c3_act(self.c3(x)))
        x = self.c5_act(self.c5(x))
        x = torch.flatten(x, 1)
        x = self.f6_act(self.f6(x))
        return self.softmax(self.output(x))  # probabilities; hook "output" for logits


class ScaledTanh(nn.Module):
    """LeCun 1998's squashing function A * tanh(S * x), A = 1.7159, S = 2/3."""

    def forward(self, x):
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """Trainable subsampling: the mean of each 2x2 window times a learnt
    coefficient plus a learnt bias, one of each per map."""

    def __init__(self, channels):
        super().__init__()
        self.pool = nn.AvgPool2d(2)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return self.pool(x) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class MaskedConv2d(nn.Conv2d):
    """Conv whose output map k reads input map c only where mask[k][c] is 1. The
    weight keeps its full shape; the unused taps are never read."""

    def __init__(self, in_channels, out_channels, kernel_size, mask):
        super().__init__(in_channels, out_channels, kernel_size)
        m = torch.tensor(mask, dtype=torch.float32).view(out_channels, in_channels, 1, 1)
        self.register_buffer("mask", m, persistent=False)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias)


class RBFOutput(nn.Module):
    """Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2. The centres are fixed in
    the paper (hand-drawn 7x12 bitmaps), so they are a buffer, not parameters."""

    def __init__(self, in_features, classes):
        super().__init__()
        self.register_buffer("weight", torch.zeros(classes, in_features))

    def forward(self, x):
        return ((x.unsqueeze(1) - self.weight.unsqueeze(0)) ** 2).sum(dim=2)


class LeNet5_1998(nn.Module):
    """LeNet-5 as in LeCun et al. 1998; returns the RBF penalties (lowest wins)."""

    def __init__(self, num_classes=10, in_hw=(32, 32)):
        super().__init__()
        h, w = _lenet_c5_size(in_hw)
        mask = [[C3_TABLE[c][k] for c in range(6)] for k in range(16)]
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c1_act = ScaledTanh()
        self.s2 = Subsampling(6)
        self.s2_act = ScaledTanh()
        self.c3 = MaskedConv2d(6, 16, 5, mask)
        self.c3_act = ScaledTanh()
        self.s4 = Subsampling(16)
        self.s4_act = ScaledTanh()
        self.c5 = nn.Conv2d(16, 120, 5)
        self.c5_act = ScaledTanh()
        self.f6 = nn.Linear(120 * h * w, 84)
        self.f6_act = ScaledTanh()
        self.output = RBFOutput(84, num_classes)

    def forward(self, x):
        x = self.s2_act(self.s2(self.c1_act(self.c1(x))))
        x = self.s4_act(self.s4(self.c3_act(self.c3(x))))
        x = self.c5_act(self.c5(x))
        x = torch.flatten(x, 1)
        x = self.f6_act(self.f6(x))
        return self.output(x)


# ---------------------------------------------------------------------------
# AlexNet 2012
# ---------------------------------------------------------------------------


def _out(n, k, s, p=0):
    return (n + 2 * p - k) // s + 1


class AlexNet2012(nn.Module):
    """AlexNet as in Krizhevsky et al. 2012, one tower with full connections:
    96/256/384/384/256 maps, LRN after the ReLUs of conv1 and conv2, dropout on
    the outputs of the two hidden fully connected layers. Returns logits."""

    def __init__(self, num_classes=1000, in_hw=(227, 227)):
        super().__init__()

        def lrn():
            # paper: k = 2, n = 5, alpha = 1e-4, beta = 0.75 (PyTorch divides alpha by n)
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)

        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4),
            nn.ReLU(),
            lrn(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2),
            nn.ReLU(),
            lrn(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )
        h, w = in_hw
        h, w = _out(_out(h, 11, 4), 3, 2), _out(_out(w, 11, 4), 3, 2)
        h, w = _out(h, 3, 2), _out(w, 3, 2)
        h, w = _out(h, 3, 2), _out(w, 3, 2)
        if h < 1 or w < 1:
            raise ValueError(f"alexnet_2012 needs an input of at least 67x67, got {in_hw[0]}x{in_hw[1]}")
        self.classifier = nn.Sequential(
            nn.Linear(256 * h * w, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


# ---------------------------------------------------------------------------
# GoogLeNet 2014 and SE-Inception
# ---------------------------------------------------------------------------

# The paper's Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION_TABLE = (
    ("inception3a", 64, 96, 128, 16, 32, 32),
    ("inception3b", 128, 128, 192, 32, 96, 64),
    ("inception4a", 192, 96, 208, 16, 48, 64),
    ("inception4b", 160, 112, 224, 24, 64, 64),
    ("inception4c", 128, 128, 256, 24, 64, 64),
    ("inception4d", 112, 144, 288, 32, 64, 64),
    ("inception4e", 256, 160, 320, 32, 128, 128),
    ("inception5a", 256, 160, 320, 32, 128, 128),
    ("inception5b", 384, 192, 384, 48, 128, 128),
)


class ConvReLU(nn.Module):
    """Conv with bias then ReLU: torchvision's BasicConv2d without the BN."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)

    def forward(self, x):
        return F.relu(self.conv(x))


class SEBlock(nn.Module):
    """Squeeze-and-excitation: mean over H, W, 1x1 conv to C/16 + ReLU, 1x1 conv
    back to C + sigmoid, then every map scaled by its gate."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = self.gate(self.fc2(self.act(self.fc1(s))))
        return x * s


class Inception(nn.Module):
    """The paper's inception module (a real 5x5 conv in branch 3), optionally
    followed by an SE block on the concatenated output."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, se=False):
        super().__init__()
        self.branch1 = ConvReLU(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(ConvReLU(in_channels, ch3x3red, 1), ConvReLU(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(ConvReLU(in_channels, ch5x5red, 1), ConvReLU(ch5x5red, ch5x5, 5, padding=2))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), ConvReLU(in_channels, pool_proj, 1)
        )
        self.se = SEBlock(ch1x1 + ch3x3 + ch5x5 + pool_proj) if se else None

    def forward(self, x):
        y = torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)
        return self.se(y) if self.se is not None else y


class GoogLeNet2014(nn.Module):
    """GoogLeNet as in Szegedy et al. 2014 (no BN, LRN after maxpool1 and conv3,
    3x3/2 ceil-mode pools, dropout 0.4), with module names as torchvision's
    GoogLeNet; se=True adds an SE block to every inception module. Returns
    logits. The auxiliary classifiers (training only) are not included."""

    def __init__(self, num_classes=1000, se=False):
        super().__init__()

        def lrn():
            # Caffe's reference GoogLeNet: size 5, alpha 1e-4, beta 0.75, k 1
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)

        self.conv1 = ConvReLU(3, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn1 = lrn()
        self.conv2 = ConvReLU(64, 64, 1)
        self.conv3 = ConvReLU(64, 192, 3, padding=1)
        self.lrn2 = lrn()
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        in_channels = 192
        for name, *chs in INCEPTION_TABLE:
            setattr(self, name, Inception(in_channels, *chs, se=se))
            in_channels = chs[0] + chs[2] + chs[4] + chs[5]
            if name == "inception3b":
                self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "inception4e":
                self.maxpool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # the paper's 7x7 average pool at 224x224
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.lrn1(self.maxpool1(self.conv1(x)))
        x = self.maxpool2(self.lrn2(self.conv3(self.conv2(x))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            x = getattr(self, name)(x)
        x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.dropout(x))



# ---------------------------------------------------------------------------
# The small Fashion-MNIST models (src/models/fashion.c): 28x28 grey, 10 classes
# ---------------------------------------------------------------------------

class ConvBNReLU(nn.Module):
    """conv (no bias, same padding) -> BN -> ReLU as "<name>.conv", "<name>.bn"; the ReLU is the module's output."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FashionVGG(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(ConvBNReLU(1, 16, 3), ConvBNReLU(16, 16, 3), nn.MaxPool2d(2),
                                      ConvBNReLU(16, 32, 3), ConvBNReLU(32, 32, 3), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.3),
                                        nn.Linear(64, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class TimmSE(nn.Module):
    """timm's SEModule: mean, fc1 (make_divisible(C/16, 8)), ReLU, fc2, sigmoid, scale."""

    def __init__(self, channels):
        super().__init__()
        rd = max(8, int(channels / 16 + 4) // 8 * 8)
        self.fc1 = nn.Conv2d(channels, rd, 1)
        self.fc2 = nn.Conv2d(rd, channels, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


class FashionBlock(nn.Module):
    def __init__(self, cin, cout, stride, se):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.se = TimmSE(cout) if se else None
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.se is not None:
            y = self.se(y)
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class FashionResNet8(nn.Module):
    def __init__(self, num_classes=10, se=False):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(FashionBlock(16, 16, 1, se))
        self.layer2 = nn.Sequential(FashionBlock(16, 32, 2, se))
        self.layer3 = nn.Sequential(FashionBlock(32, 64, 2, se))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class FashionDenseLayer(nn.Module):
    def __init__(self, cin, growth=12):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        return self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


class FashionDenseBlock(nn.Module):
    def __init__(self, cin, layers=3, growth=12):
        super().__init__()
        for i in range(layers):
            self.add_module(f"denselayer{i + 1}", FashionDenseLayer(cin + i * growth, growth))

    def forward(self, x):
        features = [x]
        for layer in self.children():
            features.append(layer(features))
        return torch.cat(features, 1)


class FashionDenseNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        f = nn.Sequential()
        f.add_module("conv0", nn.Conv2d(1, 24, 3, padding=1, bias=False))
        f.add_module("norm0", nn.BatchNorm2d(24))
        f.add_module("relu0", nn.ReLU())
        f.add_module("pool0", nn.MaxPool2d(2))
        f.add_module("denseblock1", FashionDenseBlock(24))
        t = nn.Sequential()
        t.add_module("norm", nn.BatchNorm2d(60))
        t.add_module("relu", nn.ReLU())
        t.add_module("conv", nn.Conv2d(60, 30, 1, bias=False))
        t.add_module("pool", nn.AvgPool2d(2))
        f.add_module("transition1", t)
        f.add_module("denseblock2", FashionDenseBlock(30))
        f.add_module("norm5", nn.BatchNorm2d(66))
        self.features = f
        self.classifier = nn.Linear(66, num_classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(F.relu(self.features(x)), 1)
        return self.classifier(torch.flatten(x, 1))


class FashionInceptionModule(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.branch1 = ConvBNReLU(cin, c1, 1)
        self.branch2 = nn.Sequential(ConvBNReLU(cin, c3r, 1), ConvBNReLU(c3r, c3, 3))
        self.branch3 = nn.Sequential(ConvBNReLU(cin, c5r, 1), ConvBNReLU(c5r, c5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), ConvBNReLU(cin, pp, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class FashionInception(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = ConvBNReLU(1, 32, 3)
        self.maxpool1 = nn.MaxPool2d(2)
        self.inception3a = FashionInceptionModule(32, 16, 16, 24, 8, 8, 8)
        self.maxpool2 = nn.MaxPool2d(2)
        self.inception4a = FashionInceptionModule(56, 32, 32, 48, 8, 16, 16)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(112, num_classes)

    def forward(self, x):
        x = self.inception4a(self.maxpool2(self.inception3a(self.maxpool1(self.conv1(x)))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Separable(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.conv1(x))


class FashionXceptionBlock(nn.Module):
    def __init__(self, rep, skip=None):
        super().__init__()
        self.rep = rep
        if skip is not None:
            self.skip, self.skipbn = skip
        else:
            self.skip = None

    def forward(self, x):
        s = self.skipbn(self.skip(x)) if self.skip is not None else x
        return self.rep(x) + s


class FashionXception(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.block1 = FashionXceptionBlock(
            nn.Sequential(Separable(32, 64), nn.BatchNorm2d(64), nn.ReLU(), Separable(64, 64), nn.BatchNorm2d(64),
                          nn.MaxPool2d(3, stride=2, padding=1)),
            (nn.Conv2d(32, 64, 1, stride=2, bias=False), nn.BatchNorm2d(64)))
        middle = []
        for _ in range(3):
            middle += [nn.ReLU(), Separable(64, 64), nn.BatchNorm2d(64)]
        self.block2 = FashionXceptionBlock(nn.Sequential(*middle))
        self.conv3 = Separable(64, 128)
        self.bn3 = nn.BatchNorm2d(128)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        x = self.block2(self.block1(x))
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


FASHION = {
    "fashion_vgg": FashionVGG,
    "fashion_resnet8": FashionResNet8,
    "fashion_seresnet8": lambda num_classes=10: FashionResNet8(num_classes, se=True),
    "fashion_densenet": FashionDenseNet,
    "fashion_inception": FashionInception,
    "fashion_xception": FashionXception,
}

# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

# name -> (default classes, default input height/width)
DEFAULTS = {
    "lenet5": (10, 32),
    "lenet5_1998": (10, 32),
    "alexnet_2012": (1000, 227),
    "googlenet_2014": (1000, 224),
    "se_googlenet": (1000, 224),
}
TORCHVISION = ("alexnet", "googlenet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
               "vgg19_bn")
MODELS = tuple(DEFAULTS) + TORCHVISION + tuple(FASHION)


def build(name, num_classes=None, in_hw=None):
    """The reference module for a zoo model, in training mode (call .eval()).

    num_classes: None for the zoo default. in_hw: (height, width) of the input,
    None for the default; lenet5, lenet5_1998 and alexnet_2012 size their first
    fully connected layer from it, the others accept any large enough input.
    torchvision models are built without pretrained weights; googlenet as
    googlenet(aux_logits=False, transform_input=True, init_weights=True), the
    form its pretrained weights use.
    """
    if name in TORCHVISION:
        import torchvision

        ctor = getattr(torchvision.models, name)
        classes = num_classes or 1000
        if name == "googlenet":
            return ctor(num_classes=classes, aux_logits=False, transform_input=True, init_weights=True)
        return ctor(num_classes=classes)
    if name in FASHION:
        return FASHION[name](num_classes=num_classes or 10)
    if name not in DEFAULTS:
        raise ValueError(f"cs_reference: no model '{name}'; models here are: {', '.join(MODELS)}\n"
                         "hint: the resnet, densenet, xception and senet families are torchvision's or timm's")
    classes, hw = DEFAULTS[name]
    classes = num_classes or classes
    in_hw = tuple(in_hw) if in_hw else (hw, hw)
    if name == "lenet5":
        return LeNet5(classes, in_hw)
    if name == "lenet5_1998":
        return LeNet5_1998(classes, in_hw)
    if name == "alexnet_2012":
        return AlexNet2012(classes, in_hw)
    return GoogLeNet2014(classes, se=(name == "se_googlenet"))
