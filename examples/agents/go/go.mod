// The Go example agents: one main package per agent, all using the SDK in sdk/go.
// Build: bash scripts/build-examples.sh go   (writes echo.wasm, bidder.wasm, faults.wasm here)
module examples

go 1.24

require caxton v0.0.0

replace caxton => ../../../sdk/go
