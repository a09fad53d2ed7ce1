/* help.c - every command's usage text, `tautune help` and docs/cli.md. */
#include "cli/help.h"

#include <string.h>

#include "cli/cli.h"
#include "data/gen.h"
#include "tautune/tautune.h"

/* The exit codes, shared by the overview, `run --help` and docs/cli.md. */
static const struct {
    int code;
    const char *meaning;
} exit_codes[] = {
    {TT_EXIT_OK, "success"},
    {TT_EXIT_ERROR, "I/O or internal error; predict, assign: a damaged model file"},
    {TT_EXIT_USAGE, "bad command line or config (also: an unknown --fail-under/--fail-over score)"},
    {TT_EXIT_DATA, "the data cannot be used"},
    {TT_EXIT_PLUGIN, "a configured plugin is missing or cannot handle the data"},
    {TT_EXIT_NO_TRIAL, "the search finished without one successful trial"},
    {TT_EXIT_THRESHOLD, "a --fail-under/--fail-over threshold was missed (or its score is null)"},
    {TT_EXIT_REFIT, "a plugin failed or crashed after the search: the winner's refit (run; "
                    "see results.json's winner) or load/effect (predict)"},
    {TT_EXIT_INTERRUPTED, "interrupted (Ctrl-C, SIGTERM); finished work was written"},
};

void tt_help_exit_codes(FILE *out)
{
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++)
        fprintf(out, "  %3d  %s\n", exit_codes[i].code, exit_codes[i].meaning);
}

static void run_text(FILE *out)
{
    fputs("Usage: tautune run CONFIG.lua [options]\n"
          "\n"
          "Searches the estimators of CONFIG.lua within its budget, scores every\n"
          "candidate on held-out rows, prints a leaderboard and writes a run folder\n"
          "(trials.jsonl, results.json, config.lua, nuisance.ttn, cate.csv, model.ttm).\n"
          "\n"
          "Options (each overrides the config):\n"
          "  --out DIR            run folder (default runs/<config name>-<UTC time>)\n"
          "  --data PATH          CSV file instead of the config's data.path (same roles)\n"
          "  --seed N             run seed (same seed, same results)\n"
          "  --budget SECONDS     wall-clock budget for the whole run (nuisance models,\n"
          "                       search, refit, report); too small a budget is refused\n"
          "                       with an estimate (exit 2)\n"
          "  --trials N           stop after N trials (a resumed run counts its old ones)\n"
          "  --jobs N             trials in parallel worker processes (default 1)\n"
          "  --estimand E         the headline average effect: ate (every row, the\n"
          "                       default), att (the treated), atc (the controls) or\n"
          "                       overlap (overlap weights); doubly robust, from the\n"
          "                       cross-fitted nuisance models of every row\n"
          "  --resume DIR         continue the interrupted run in DIR: its nuisance models\n"
          "                       and finished trials are kept, trials are not repeated;\n"
          "                       the budget counts new time only\n"
          "  --plugin-path DIRS   extra plugin folders (colon-separated; repeatable)\n"
          "  --mpi                under mpirun: rank 0 searches and writes the run folder,\n"
          "                       the other ranks run the trials (docs/cluster.md); the\n"
          "                       default when launched by mpirun with 2 or more ranks.\n"
          "                       --jobs then defaults to the worker ranks' slots; give\n"
          "                       the same --jobs to repeat a local run's trials exactly\n"
          "  --mpi-slots N        trials at once on each worker rank (default 1)\n"
          "  --mpi-timeout S      a worker rank silent for S seconds is dead: its running\n"
          "                       trial fails with that cause, the run goes on (default 30)\n"
          "  --quiet              no progress on stderr\n"
          "  -v, --verbose        every trial's log on stderr as it finishes (the lines\n"
          "                       its plugin logged or printed), not only a failed\n"
          "                       trial's last 3\n"
          "  --ci                 for scripts and CI: plain progress lines (never the live\n"
          "                       line or terminal control codes) and, without --out, the\n"
          "                       fixed run folder runs/<config name>, refused when it\n"
          "                       exists and is not empty\n"
          "  --fail-under SCORE=VALUE\n"
          "                       exit 6 when the winner's SCORE (a score or oracle figure,\n"
          "                       e.g. qini=0.02 or pehe=0.5) is below VALUE (repeatable)\n"
          "  --fail-over SCORE=VALUE\n"
          "                       exit 6 when the winner's SCORE is above VALUE (repeatable)\n"
          "\n"
          "A trial's log is what its worker process printed: the plugin's log lines\n"
          "(host->log), its stdout (printf, puts, write(1, ...)) and stderr, in order.\n"
          "None of it reaches tautune's stdout. The last 50 lines (at most 16 KiB) go\n"
          "into the trial's record in trials.jsonl (\"log\", with \"[N earlier lines\n"
          "dropped]\" first when it printed more), also when the trial crashed or was\n"
          "killed at its timeout; a failed trial's last 3 are shown under it.\n"
          "\n"
          "Thresholds are checked after everything is written; a SCORE the run did not\n"
          "compute for the winner (null, or not asked for by the config's scoring.scores)\n"
          "also exits 6. A SCORE that is no score or oracle name is refused at once.\n"
          "\n"
          "Exit codes:\n",
          out);
    tt_help_exit_codes(out);
}

static void check_text(FILE *out)
{
    fputs("Usage: tautune check CONFIG.lua [--data FILE.csv] [--plugin-path DIRS]...\n"
          "\n"
          "Validates CONFIG.lua without running anything: loads the config and its\n"
          "search spaces, finds every estimator's plugin and checks its space against\n"
          "the plugin's schema, reads the data with its column roles and validation\n"
          "split, and checks the plugins can handle it (arms, instruments). Prints a\n"
          "short report on stdout; problems go to stderr. No run folder is created.\n"
          "\n"
          "Options:\n"
          "  --data FILE.csv      CSV file instead of the config's data.path (same roles)\n"
          "  --plugin-path DIRS   extra plugin folders (colon-separated; repeatable)\n"
          "\n"
          "Exit codes: 0 ok, 1 I/O or internal error, 2 usage or config error,\n"
          "3 data error, 4 plugin error (as `tautune run` would exit).\n",
          out);
}

static void score_text(FILE *out)
{
    fputs("Usage: tautune score CONFIG.lua --cate FILE.csv [--columns A,B,...] [options]\n"
          "\n"
          "Scores per-row effect predictions made by any tool with the machinery of\n"
          "`tautune run`: the config's data, validation split (same seed) and scoring\n"
          "models. FILE.csv has one row per data row, in the data's order (after rows\n"
          "the config drops or excludes), and one numeric column per treated arm (arm\n"
          "1, 2, ... against the control): all its columns, or those named by --columns.\n"
          "Only the validation rows are scored. Prints JSON on stdout.\n"
          "\n"
          "Options:\n"
          "  --cate FILE.csv      the effects to score (required)\n"
          "  --columns A,B,...    which columns of FILE.csv hold the effects\n"
          "  --data PATH          CSV file instead of the config's data.path\n"
          "  --seed N             the run seed (decides the split)\n"
          "\n"
          "Exit codes: 0 ok, 1 I/O or internal error, 2 usage or config error, 3 data error.\n",
          out);
}

static void predict_text(FILE *out)
{
    fputs("Usage: tautune predict MODEL --data FILE.csv [--out FILE.csv] [options]\n"
          "\n"
          "Applies the winner a run saved (RUN_FOLDER/model.ttm) to the rows of\n"
          "FILE.csv: the run's preprocessing (one-hot levels, imputation) is applied\n"
          "as fitted on its training rows, then the estimator gives the effect of\n"
          "every treated arm and, where it has them, (1 - alpha) intervals. The output\n"
          "has the columns of the run's cate.csv: row (1-based data row of FILE.csv),\n"
          "the id column if the run had one, then tau_ARM, lo_ARM, hi_ARM per treated\n"
          "arm. Outcome and treatment columns are not needed.\n"
          "\n"
          "When the winner is an ensemble of trials, each member's estimator runs on\n"
          "the rows and the effects are the weighted sum of the members' effects. Its\n"
          "intervals are an approximation: the weighted average of the members' lower\n"
          "bounds and of their upper bounds, which is the interval of the weighted\n"
          "average only when the members' errors are perfectly correlated (otherwise\n"
          "it is wider than the weighted average's own interval would be). If a member\n"
          "gives no intervals, the ensemble gives none (with a warning).\n"
          "\n"
          "Options:\n"
          "  --data FILE.csv       rows to predict (required)\n"
          "  --out FILE.csv        where to write (default: standard output)\n"
          "  --alpha A             interval level 1 - A (default 0.05)\n"
          "  --no-intervals        effects only\n"
          "  --policy FILE.json    add each row's arm by a policy tree (policy.json of\n"
          "                        the same run or of `tautune policy`): column policy_arm\n"
          "  --plugin-path DIR     extra plugin folder (repeatable; colon lists allowed)\n"
          "\n"
          "A model file is checked against its checksum before it is used: a damaged\n"
          "one is refused (\"damaged model file\"); one written before checksums is\n"
          "read with a warning that it cannot be verified.\n"
          "\n"
          "The model names each plugin's file and the folder it was loaded from. That\n"
          "folder is searched first, as it holds the very build that saved the model's\n"
          "state; then --plugin-path (for a model moved to another machine),\n"
          "$TAUTUNE_PLUGIN_PATH and the built-in folder. A plugin found elsewhere than\n"
          "the recorded file is noted; one of another version than the one that saved\n"
          "the model is used with a warning naming both versions (a plugin the host's\n"
          "ABI check refuses is an error, exit 4). Models written before tautune\n"
          "recorded the folder (format 3 and older) use the plugin path only.\n"
          "\n"
          "Exit codes: 0 ok, 1 I/O or internal error, or a damaged model file (or one\n"
          "written by a newer tautune), 2 usage error, 3 data error (a model file that\n"
          "is not there, a column the model needs is missing or malformed), 4 a plugin\n"
          "of the model is not installed or cannot load models, 7 a plugin failed or\n"
          "crashed loading the model or computing effects (it runs in a child\n"
          "process; the message names the plugin and the step).\n",
          out);
}

static void plugins_text(FILE *out)
{
    fputs("Usage: tautune plugins [NAME] [--plugin-path DIR[:DIR...]]...\n"
          "       tautune plugins --learners [--markdown]\n"
          "\n"
          "Lists every estimator plugin found on the plugin path with its version,\n"
          "capabilities and hyperparameter schema; with NAME, only that plugin.\n"
          "--learners lists instead the host's learners a plugin can create through\n"
          "its host table (learner_create): each name, what it fits, and every key\n"
          "with its kind, range, default and meaning, read from the tables the host\n"
          "checks learner_create against; no plugin is loaded. --markdown prints it\n"
          "as docs/learners.md (installed as share/doc/tautune/learners.md). Writing\n"
          "a plugin: docs/plugins.md.\n"
          "Plugin folders are searched in order: --plugin-path, $TAUTUNE_PLUGIN_PATH,\n"
          "then the built-in folder. Each file is first tried in a child process\n"
          "(loaded, its entry called, its descriptor checked), so one that aborts,\n"
          "crashes, or hangs for 5 s ($TAUTUNE_PROBE_TIMEOUT) is refused, not fatal.\n"
          "Refused files are listed last, under \"rejected:\", with the reason; run\n"
          "and check fail (exit 4) only if the config names one, else warn once.\n"
          "Verdicts are cached in $XDG_CACHE_HOME/tautune/probe-cache (or\n"
          "~/.cache/...) by file, size and times; TAUTUNE_PROBE_CACHE=0 turns that off.\n"
          "A parameter that counts only under some choices of another (ABI 1.5)\n"
          "says so, e.g. \"(only when model_learner is forest or gbm)\"; the search\n"
          "neither moves nor reports it otherwise.\n",
          out);
}

/* The generator list comes from the generators themselves. */
static void gen_text(FILE *out)
{
    fputs("Usage: tautune gen NAME --rows N --seed S [--arms K] [--x P] --out FILE.csv\n"
          "\n"
          "Writes a seeded synthetic data set with every truth column: y, t, [z,]\n"
          "x1..xP, w1, w2, tau1..tau(K-1) (true effect of arm k vs 0), e0..e(K-1) (true\n"
          "propensity), [p0..p(K-1): the design's known propensity,] mu0 (E[Y(0) | x, w]).\n"
          "Numbers are written with 17 significant digits (exact). --out - is stdout.\n"
          "x, w ~ N(0, 1); sigma = logistic; K arms: softmax with s_0 = 0.\n"
          "\n"
          "Generators:\n",
          out);
    for (const char *const *n = tt_gen_names(); *n; n++)
        fprintf(out, "  %-21s %s\n", *n, tt_gen_summary(*n));
    fputs("\n"
          "Formulas:\n"
          "  synthetic             e = sigma(0.8 x1 + 0.6 w1); tau_k = k (0.5 + x1 + 0.5 x2^2);\n"
          "                        Y = 0.5 x3 + w1 + 0.5 w2 + tau_T + N(0,1)  (always x1..x5)\n"
          "  rct_linear            T uniform; tau_k = k (1 + 0.5 x1);\n"
          "                        Y = x2 + 0.5 w1 + tau_T + N(0,1)\n"
          "  rct_nonlinear         T uniform; tau_k = k (sin(2 x1) + 0.5 x2^2); Y as rct_linear\n"
          "  confounded_linear     s_k = 0.8 x1 + 0.8 w1 + 0.2 (k-1); tau_k = k (1 + 0.5 x1);\n"
          "                        Y = x2 + w1 + tau_T + N(0,1)\n"
          "  confounded_nonlinear  s_k = x1 w1 + 0.5 w2 - 0.25 + 0.2 (k-1);\n"
          "                        tau_k = k (1 + max(x1,0) + 0.5 sin(pi x2));\n"
          "                        Y = x2 + w1 + 0.5 w2^2 + tau_T + N(0,1)\n"
          "  known_propensity      e = 0.5/K + 0.5 softmax(1.2 x1 + 0.6 w1 + 0.2 (k-1));\n"
          "                        tau_k = k (1 + 0.5 x1); Y = x2 + w1 + tau_T + N(0,1)\n"
          "  iv                    z ~ Bernoulli(0.5), U ~ N(0,1) unobserved;\n"
          "                        T = 1{-0.5 + 1.5 z + 0.5 x1 + U + N(0,1) > 0};\n"
          "                        tau = 1 + 0.5 x1; Y = x2 + w1 + tau T + U + N(0,1)\n",
          out);
}

static void explain_text(FILE *out)
{
    fputs("Usage: tautune explain RUN_DIR [--json]\n"
          "\n"
          "What a finished run says about its effect, from RUN_DIR/results.json:\n"
          "the answer (the estimand: the doubly robust average effect over the rows\n"
          "asked for, with its interval); whether the effect varies (grf's calibration\n"
          "test of the winner's out-of-sample estimates, and a joint test of the best\n"
          "linear projection of the doubly robust scores on the features); which\n"
          "features drive it (that projection's coefficients with HC3 errors,\n"
          "strongest first); groups (a depth-2 tree on the winner's estimates with\n"
          "each group's doubly robust effect); and the policy tree the run learnt.\n"
          "\n"
          "Options:\n"
          "  --json    the results.json parts (estimand, insight, policy) instead\n"
          "\n"
          "Exit codes: 0 ok, 1 the folder has no readable results.json, 2 usage\n"
          "error, 3 results.json has none of these parts.\n",
          out);
}

static void policy_text(FILE *out)
{
    fputs("Usage: tautune policy RUN_DIR [--depth D] [--cost C[,C...]] [options]\n"
          "\n"
          "Learns a policy a person can write down: the exact optimal policy tree\n"
          "(as the policytree R package finds it) over the doubly robust rewards of\n"
          "every arm that the run wrote to RUN_DIR/dr_scores.csv (AIPW, out of\n"
          "sample, net of costs). The tree is fitted on one half of the rows and\n"
          "valued on the other half against treating no one, giving everyone the\n"
          "best single arm, and the greedy policy of the winner's estimates, with\n"
          "standard errors. Prints the rules and the values and writes policy.json\n"
          "(for `tautune predict --policy`) and policy.txt. A run writes the\n"
          "depth-2 tree itself; this command refits it with other settings.\n"
          "\n"
          "Options:\n"
          "  --depth D         0 (one arm for all), 1, 2 (default) or 3 (exact, but\n"
          "                    minutes beyond a thousand rows)\n"
          "  --cost C[,C...]   cost per row of each treated arm (default 0)\n"
          "  --min-leaf S      each leaf keeps at least this share of the rows\n"
          "                    (default 0.05)\n"
          "  --seed N          the halves' shuffle (default 0)\n"
          "  --out DIR         where to write policy.json and policy.txt (default\n"
          "                    RUN_DIR)\n"
          "\n"
          "Exit codes: 0 ok, 2 usage error, 3 no usable dr_scores.csv (a run with a\n"
          "continuous treatment has no policy tree).\n",
          out);
}

static void power_text(FILE *out)
{
    fputs("Usage: tautune power (--sd S | --rate P | --pilot FILE.csv --outcome COL [--pre COL])\n"
          "                     (--lift L | --relative-lift R [--mean M] | --n N) [options]\n"
          "\n"
          "How many rows an experiment needs to detect a lift, or the smallest lift a\n"
          "given number of rows detects: the two-sample t test's power with the\n"
          "noncentral t, as statsmodels' TTestIndPower computes it. With a pre-period\n"
          "covariate correlated rho with the outcome, also with CUPED (the outcome's sd\n"
          "times sqrt(1 - rho^2)).\n"
          "\n"
          "The outcome's spread:\n"
          "  --sd S              standard deviation per row (with --mean M for relative lifts)\n"
          "  --rate P            a conversion rate: sd sqrt(P (1 - P)), mean P\n"
          "  --pilot FILE.csv    estimate them from a pilot's --outcome COLUMN; --pre COLUMN\n"
          "                      gives CUPED's rho\n"
          "What to solve:\n"
          "  --lift L            absolute lift to detect: rows per group\n"
          "  --relative-lift R   lift as a share of the mean (0.05 = 5 %)\n"
          "  --n N               rows in the control: the smallest lift detected\n"
          "Options:\n"
          "  --alpha A           significance (default 0.05, two-sided)\n"
          "  --power P           target power (default 0.8)\n"
          "  --ratio R           rows in each treated arm per control row (default 1)\n"
          "  --arms K            arms with the control (default 2); alpha is split over the\n"
          "                      K - 1 comparisons (Bonferroni)\n"
          "  --rho R             pre-period correlation for CUPED (or from --pre)\n"
          "  --one-sided         a one-sided test\n"
          "\n"
          "Exit codes: 0 ok, 2 usage error, 3 the pilot file cannot be used.\n",
          out);
}

static void abtest_text(FILE *out)
{
    fputs("Usage: tautune abtest CONFIG.lua [--data FILE] [--out DIR] [--search] [--seed S]\n"
          "                     [--quiet]\n"
          "\n"
          "The analysis of a randomised experiment with two or more arms. The config's\n"
          "data = {...} names the rows as for `run` (treatment, control, x and w\n"
          "features, data.propensity for rows assigned with known probabilities); its\n"
          "experiment = {...} table says what to compare (no estimators needed):\n"
          "  outcomes = {\"visit\", \"spend\"}  outcomes to analyse (default data.outcome)\n"
          "  design = {0.5, 0.5}            planned share per arm in arm order, control\n"
          "                                 first (or {[\"label\"] = share}); normalised\n"
          "  pre = \"spend_before\"           CUPED's pre-period column\n"
          "  alpha = 0.05, correction = \"holm\" (or \"bonferroni\", \"none\")\n"
          "  search = false                 as --search\n"
          "  resamples = 1000               bootstrap of the design value\n"
          "\n"
          "Per outcome: every arm's rows, mean and s.e.; each treated arm against the\n"
          "control by difference in means (Welch's t interval), CUPED (theta =\n"
          "cov(Y, pre) / var(pre) on all rows, and the variance it removed), Lin's\n"
          "regression adjustment with every feature (HC2 s.e.), and with --search AIPW\n"
          "with cross-fitted outcome models (the nuisance learners, chosen by out-of-fold\n"
          "loss within nuisance.seconds per outcome, default 20 estimated seconds). The\n"
          "K - 1 comparisons of each outcome and method are corrected together (Holm\n"
          "adjusts p-values; Bonferroni also widens intervals). The arm counts are\n"
          "checked against the design (chi-square; a mismatch is flagged below p 0.001).\n"
          "\n"
          "With known per-row propensities (data.propensity, e.g. rows assigned by\n"
          "`tautune assign`) plain comparisons are biased: arm means are weighted by\n"
          "1 / propensity (Hajek), AIPW uses the known propensities, and the mean\n"
          "outcome the design (default: every arm equally likely) would have earned is\n"
          "estimated by importance weighting, with the uplift of the assignment actually\n"
          "used over it (percentile bootstrap intervals).\n"
          "\n"
          "Writes results.json, summary.md and report.html (with a forest plot per\n"
          "outcome) to --out DIR, the config's out, or runs/<name>-abtest-<UTC time>.\n"
          "\n"
          "Exit codes: 0 ok, 1 I/O error, 2 usage or config error, 3 the data cannot be\n"
          "used (a column not numeric, an arm with fewer than 2 rows).\n",
          out);
}

static void assign_text(FILE *out)
{
    fputs("Usage: tautune assign MODEL --data FILE.csv [--out FILE.csv] [options]\n"
          "\n"
          "The next round of an experiment from a run's winner (RUN_FOLDER/model.ttm):\n"
          "for every row of FILE.csv, the probability that each arm is the best\n"
          "(Thompson sampling from the winner's effect distribution), floored so that\n"
          "every arm keeps being explored, and one arm drawn from those probabilities.\n"
          "\n"
          "The effect distribution is the model's 95 % intervals (as `tautune predict`\n"
          "computes them) read as normal: each treated arm's effect ~ N(tau, sd^2) with\n"
          "sd = (hi - lo) / (2 x 1.96), independent across arms, the control at 0. A\n"
          "bootstrap plugin's normal interval stands for its replicas (plugins do not\n"
          "hand replicas out). P(arm k is best) is integrated numerically (adaptive\n"
          "Gauss-Kronrod, to about 1e-13), not sampled, so it needs no seed. The floor\n"
          "F mixes with the uniform: p = F + (1 - K F) P, so every p lies in\n"
          "[F, 1 - (K-1) F] and each row still sums to 1. A model whose plugin gives no\n"
          "intervals is refused (exit 4): it says nothing about its uncertainty.\n"
          "\n"
          "The output has predict's columns (row, the id column if the run had one,\n"
          "tau_ARM, lo_ARM, hi_ARM per treated arm), then p_ARM for every arm, control\n"
          "first, and assigned (the drawn arm's label). Numbers have 17 significant\n"
          "digits. The next round's config can read the probabilities back as known\n"
          "propensities: data = { treatment = \"assigned\", propensity = { \"p_0\",\n"
          "\"p_1\", ... }, ... }. A summary (rows, arms, the uncertainty used, mean\n"
          "probability and share drawn per arm) goes to standard output, or to\n"
          "standard error when the CSV does.\n"
          "\n"
          "Options:\n"
          "  --data FILE.csv       rows to assign (required)\n"
          "  --out FILE.csv        where to write (default: standard output)\n"
          "  --min-prob F          floor per arm (default 0.05); 1e-6 <= F <= 1/K\n"
          "  --seed S              the draw's seed (default 0): the same seed, model and\n"
          "                        rows give the same arms\n"
          "  --plugin-path DIR     extra plugin folder (repeatable; colon lists allowed)\n"
          "\n"
          "Exit codes: 0 ok, 1 I/O or internal error, or a damaged model file (or one\n"
          "written by a newer tautune), 2 usage error (a floor outside its range, a\n"
          "continuous treatment), 3 data error (a model file that is not there, a\n"
          "column the model needs is missing or malformed), 4 a plugin of the model is\n"
          "not installed, cannot load models or gives no intervals, 7 a plugin failed\n"
          "or crashed loading the model or computing effects, or gave intervals that\n"
          "are no normal posterior.\n",
          out);
}

static void plugin_test_text(FILE *out)
{
    fputs("Usage: tautune plugin-test PATH.so [--quick] [--valgrind | --no-valgrind]\n"
          "                           [--seed N] [--timeout SECONDS]\n"
          "\n"
          "Tests an estimator plugin before it meets real data. The file is loaded as\n"
          "`run` loads plugins (probed in a child, validated, dlopened), then every\n"
          "plugin call runs in a child process with the host's own services table, so\n"
          "a crash or a hang costs a check (a FAIL line saying where it died), not the\n"
          "command. The data come from `tautune gen`'s generators with the effect made\n"
          "constant: rct_linear with 2 arms (effect 1) and, when the plugin claims them,\n"
          "3 arms (effects 1 and 2); iv (effect 1) for an IV plugin instead of 2 arms;\n"
          "pricing (elasticity -1) for a continuous treatment. Nuisance models are\n"
          "the host's (logistic, ridge; cross-fitted). One line per check:\n"
          "\n"
          "  load            the loader accepts the file (else the only line)\n"
          "  schema          defaults inside their ranges, choices and conditions valid\n"
          "  fit-KIND        create, fit, effect succeed (KIND: 2arm, 3arm, iv,\n"
          "                  continuous); SKIP for kinds the plugin does not claim\n"
          "  shape-KIND      effect() writes all n x (arms - 1) cells, none past them\n"
          "  finite-KIND     every effect is finite\n"
          "  recovery-KIND   the mean effect on new rows is within 5 standard errors of\n"
          "                  the truth, the s.e. of a simple estimator on the same\n"
          "                  training rows: a difference in means per arm, the Wald\n"
          "                  ratio (iv), the slope on T - E[T | x, w] (continuous)\n"
          "  intervals       effect_interval and average_effect (alpha 0.05): finite,\n"
          "                  lo <= hi, nothing written past the end; over 5 data seeds\n"
          "                  (3 with --quick) row intervals cover the true effect in at\n"
          "                  least 50 % of (row, seed) cells and the average effect's\n"
          "                  interval in at least half the seeds\n"
          "  determinism     three fits with one seed, in two processes: effects\n"
          "                  identical to the bit\n"
          "  save-load       fitted at a point where every parameter differs from its\n"
          "                  default, saved, loaded in a fresh process: effects (and\n"
          "                  interval bounds) identical to the bit; catches a load that\n"
          "                  drops a parameter\n"
          "  schema-points   random points of the schema's ranges each fit, with\n"
          "                  written, finite effects (8; 3 with --quick)\n"
          "  weights         a fit with sample weights gives finite effects, or the\n"
          "                  plugin refuses them with an error (never a crash)\n"
          "  refusal         data it does not claim (3 arms, a continuous treatment; an\n"
          "                  IV plugin: no instrument) is refused by the host before any\n"
          "                  plugin call\n"
          "  should-stop     a fit whose should_stop is true from the start returns\n"
          "                  within 2 s\n"
          "  fit-time        seconds per fit and effect (INFO, not judged)\n"
          "  valgrind        one fit/effect/interval/save/load cycle on 300 rows run\n"
          "                  under valgrind (--leak-check=full, as a child running\n"
          "                  `tautune plugin-test --cycle`): FAIL on an invalid access or\n"
          "                  a definite leak, naming the first one and keeping the log\n"
          "\n"
          "Options:\n"
          "  --quick              2,000 training and 500 new rows (5,000 and 1,000\n"
          "                       without), fewer seeds and points, 20 bootstrap\n"
          "                       replicas, no valgrind: what CI runs on every built-in\n"
          "  --valgrind           run the valgrind check even with --quick (exit 2 when\n"
          "                       valgrind is not installed)\n"
          "  --no-valgrind        never run it (by default it runs, without --quick,\n"
          "                       when valgrind is on PATH, else it is a SKIP)\n"
          "  --seed N             data, nuisance and plugin seed (default 1)\n"
          "  --timeout SECONDS    a child still running after this is killed and its\n"
          "                       check fails (default 300; 120 with --quick)\n"
          "\n"
          "Examples:\n"
          "  tautune plugin-test build/my_plugin.so\n"
          "  tautune plugin-test --quick --valgrind build/my_plugin.so\n"
          "  tautune plugin-test --quick build/plugins/dml_linear.so --seed 7\n"
          "\n"
          "Exit codes: 0 no FAIL (SKIP lines allowed), 1 internal error, 2 usage error,\n"
          "4 the loader refused the file or a check failed.\n",
          out);
}

static void version_text(FILE *out)
{
    fputs("Usage: tautune version\n"
          "\n"
          "Prints the program version, the plugin ABI it serves (a plugin must have\n"
          "the same major and at most this minor), the plugin build tag and the\n"
          "results.json schema version. Also: tautune --version.\n",
          out);
}

static void help_text(FILE *out)
{
    fputs("Usage: tautune help [COMMAND | --markdown]\n"
          "\n"
          "Without arguments: the list of commands. With COMMAND: that command's usage\n"
          "(the same as `tautune COMMAND --help`). With --markdown: every command's\n"
          "usage as Markdown, the content of docs/cli.md.\n",
          out);
}

static const tt_help_entry table[] = {
    {"run", "search estimators, write a run folder", run_text},
    {"check", "validate a config, its plugins and data without running", check_text},
    {"score", "score effects made by any tool (JSON)", score_text},
    {"predict", "apply a run's winner (model.ttm) to new rows", predict_text},
    {"explain", "what drives a run's effect, and its policy", explain_text},
    {"policy", "learn a policy tree from a run's doubly robust rewards", policy_text},
    {"power", "rows an experiment needs, or the smallest lift it detects", power_text},
    {"abtest", "analyse an experiment: Welch, CUPED, Lin, AIPW, sample ratio", abtest_text},
    {"assign", "assign new rows to arms by Thompson sampling from a model", assign_text},
    {"plugins", "list plugins, or one plugin's schema", plugins_text},
    {"plugin-test", "check a plugin .so on data with known effects", plugin_test_text},
    {"gen", "write a synthetic data set (generators)", gen_text},
    {"version", "program and plugin ABI versions", version_text},
    {"help", "this list, a command's usage, or docs/cli.md", help_text},
};

const tt_help_entry *tt_help_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const tt_help_entry *tt_help_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

int tt_help_print(const char *name, FILE *out)
{
    const tt_help_entry *e = tt_help_find(name);
    if (!e)
        return -1;
    e->print(out);
    return 0;
}

/* The overview; the version only where it cannot make docs/cli.md stale. */
static void overview(FILE *out, int with_version)
{
    if (with_version)
        fprintf(out, "tautune %s - ", TT_VERSION_STRING);
    else
        fputs("tautune - ", out);
    fputs("find the best causal-effect estimator for a data set\n\nUsage:\n", out);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        fprintf(out, "  tautune %-11s %s\n", table[i].name, table[i].synopsis);
    fputs("\nRun `tautune COMMAND --help` for a command's options.\n", out);
}

void tt_help_markdown(FILE *out)
{
    fputs("# The `tautune` command line\n"
          "\n"
          "<!-- Generated by `tautune help --markdown` from core/cli/help.c; do not edit.\n"
          "     Regenerate: ./build/tautune help --markdown > docs/cli.md -->\n"
          "\n"
          "| Command | What it does |\n"
          "|---|---|\n",
          out);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        fprintf(out, "| [`tautune %s`](#tautune-%s) | %s |\n", table[i].name, table[i].name,
                table[i].synopsis);
    fputs("\n## Exit codes\n\n| Code | Meaning |\n|---|---|\n", out);
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++)
        fprintf(out, "| %d | %s |\n", exit_codes[i].code, exit_codes[i].meaning);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        fprintf(out, "\n## tautune %s\n\n```text\n", table[i].name);
        table[i].print(out);
        fputs("```\n", out);
    }
}

int tt_cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        overview(stdout, 1);
        return TT_EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
        tt_help_markdown(stdout);
        return TT_EXIT_OK;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        help_text(stdout);
        return TT_EXIT_OK;
    }
    if (argc == 2 && tt_help_print(argv[1], stdout) == 0)
        return TT_EXIT_OK;
    if (argc == 2 && argv[1][0] != '-')
        fprintf(stderr, "tautune help: no command named '%s'\n\n", argv[1]);
    else
        fprintf(stderr, "tautune help: unexpected arguments\n\n");
    overview(stderr, 1);
    return TT_EXIT_USAGE;
}

void tt_help_overview(FILE *out)
{
    overview(out, 1);
}
