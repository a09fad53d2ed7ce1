-- expect: 3 but here it is '1
return { data = { path = "csv/quoted_newline.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
