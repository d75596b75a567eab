module caxton

go 1.24
