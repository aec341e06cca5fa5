"""The reference side of evaluation.int.test.ts: reads cases as JSON on stdin, answers with scikit-learn's, scipy's
and numpy's results on the same data as JSON on stdout. Debian's python3-sklearn (which brings python3-scipy)."""
import json
import sys

import numpy as np
from scipy import integrate, optimize, special, stats
from scipy.spatial.distance import jensenshannon
from sklearn import metrics
from sklearn.calibration import calibration_curve
from sklearn.preprocessing import label_binarize


def f(x):
    return float(x)


def classification(case):
    y = case["labels"]
    pred = case["predicted"]
    classes = case["classes"]
    out = {
        "accuracy": f(metrics.accuracy_score(y, pred)),
        "confusion": metrics.confusion_matrix(y, pred, labels=classes).tolist(),
    }
    p, r, f1, s = metrics.precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    out["perClass"] = [[f(a), f(b), f(c), int(d)] for a, b, c, d in zip(p, r, f1, s)]
    for avg in ("macro", "weighted"):
        p, r, f1, _ = metrics.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)
        out[avg] = [f(p), f(r), f(f1)]
    if "positive" in case:
        prob = np.asarray(case["positive"], dtype=np.float64)
        yb = np.asarray([1 if v == classes[1] else 0 for v in y])
        out["rocAuc"] = f(metrics.roc_auc_score(yb, prob))
        out["averagePrecision"] = f(metrics.average_precision_score(yb, prob))
        out["logLoss"] = f(metrics.log_loss(y, prob, labels=classes))
        for strategy in ("uniform", "quantile"):
            t, pr = calibration_curve(yb, prob, n_bins=case["bins"], strategy=strategy)
            out["calibration_" + strategy] = [t.tolist(), pr.tolist()]
    if "probabilities" in case:
        prob = np.asarray(case["probabilities"], dtype=np.float64).T
        out["rocAuc"] = f(metrics.roc_auc_score(y, prob, multi_class="ovr", average="macro", labels=classes))
        onehot = label_binarize(y, classes=classes)
        out["averagePrecision"] = f(metrics.average_precision_score(onehot, prob, average="macro"))
        out["logLoss"] = f(metrics.log_loss(y, prob, labels=classes))
    return out


def regression(case):
    y = np.asarray(case["actual"])
    p = np.asarray(case["predicted"])
    res = y - p
    counts, edges = np.histogram(res, bins=case["bins"])
    return {
        "mae": f(metrics.mean_absolute_error(y, p)),
        "rmse": f(np.sqrt(metrics.mean_squared_error(y, p))),
        "r2": f(metrics.r2_score(y, p)),
        "quartiles": [f(v) for v in np.percentile(res, [25, 50, 75])],
        "std": f(np.std(res)),
        "histogram": [counts.tolist(), edges.tolist()],
    }


def drift(case):
    a = np.asarray(case["a"])
    b = np.asarray(case["b"])
    out = {}
    for method in case["methods"]:
        r = stats.ks_2samp(a, b, method=method)
        out["ks_" + method] = [f(r.statistic), f(r.pvalue)]
    m, n = sorted([float(len(a)), float(len(b))], reverse=True)
    en = m * n / (m + n)
    out["kstwobign"] = f(stats.kstwobign.sf(np.sqrt(en) * out["ks_asymp"][0]))
    if "p" in case:
        out["js"] = f(jensenshannon(case["p"], case["q"], base=2))
    return out


def chi_square(case):
    r = stats.chi2_contingency(np.asarray(case["table"]))
    return [f(r[0]), f(r[1]), int(r[2])]


def t_quantile(q, df):
    """scipy's t.ppf is off by up to ~2e-9 relative (df = 10, q = 0.995): solve t.sf (accurate) instead."""
    return optimize.brentq(lambda x: stats.t.sf(x, df) - (1 - q), -1e4, 1e4, xtol=1e-300, rtol=1e-15)


def ab(case):
    a, b = case["a"], case["b"]
    t = stats.ttest_ind_from_stats(b["mean"], np.sqrt(b["variance"]), b["n"], a["mean"], np.sqrt(a["variance"]), a["n"],
                                   equal_var=False)
    va, vb = a["variance"] / a["n"], b["variance"] / b["n"]
    df = (va + vb) ** 2 / (va ** 2 / (a["n"] - 1) + vb ** 2 / (b["n"] - 1))
    return {"t": f(t.statistic), "p": f(t.pvalue), "df": f(df), "q975": f(t_quantile(0.975, df))}


def proportions(case):
    a, b = case["a"], case["b"]
    table = [[a["successes"], a["n"] - a["successes"]], [b["successes"], b["n"] - b["successes"]]]
    chi2, p, _, _ = stats.chi2_contingency(np.asarray(table), correction=False)
    aa, ba = 1 + a["successes"], 1 + a["n"] - a["successes"]
    ab_, bb = 1 + b["successes"], 1 + b["n"] - b["successes"]
    beats, _ = integrate.quad(lambda x: stats.beta.pdf(x, ab_, bb) * stats.beta.cdf(x, aa, ba), 0, 1,
                              epsabs=1e-13, epsrel=1e-12, limit=500,
                              points=[aa / (aa + ba), ab_ / (ab_ + bb)])
    return {"chi2": f(chi2), "p": f(p), "beats": f(beats)}


def special_functions(case):
    out = {}
    out["tsf"] = [f(stats.t.sf(x, df)) for x, df in case["t"]]
    out["tppf"] = [f(t_quantile(q, df)) for q, df in case["tq"]]
    out["chi2sf"] = [f(stats.chi2.sf(x, k)) for x, k in case["chi2"]]
    out["normsf"] = [f(stats.norm.sf(x)) for x in case["norm"]]
    out["normppf"] = [f(stats.norm.ppf(q)) for q in case["normq"]]
    out["kstwobign"] = [f(stats.kstwobign.sf(x)) for x in case["kolmogorov"]]
    out["betainc"] = [f(special.betainc(a, b, x)) for x, a, b in case["beta"]]
    out["gammaln"] = [f(special.gammaln(x)) for x in case["gammaln"]]
    return out


def main():
    cases = json.load(sys.stdin)
    handlers = {
        "classification": classification,
        "regression": regression,
        "drift": drift,
        "chi2": chi_square,
        "welch": ab,
        "proportions": proportions,
        "special": special_functions,
    }
    json.dump([handlers[c["kind"]](c) for c in cases], sys.stdout)


main()
