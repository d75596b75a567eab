module agent

go 1.24

require caxton v0.0.0

// The Caxton Go SDK, vendored in ./caxton.
replace caxton => ./caxton
