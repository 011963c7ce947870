// Runs an ONNX model in ONNX Runtime (third_party/node, from
// scripts/install-onnxruntime.sh) on float32 inputs read from files, one
// session for all of them.
//   node scripts/ort_run.js MODEL REPEAT THREADS IN.bin N,C,H,W OUT.bin [IN.bin DIMS OUT.bin ...]
// For each input, writes the first output's raw values to its OUT.bin and
// prints a JSON line: the output's name, type and dims, and the seconds of
// each of REPEAT runs. THREADS 0 leaves ONNX Runtime's default.
'use strict';
const fs = require('fs');
const path = require('path');

const [model, repeatText, threadsText, ...runs] = process.argv.slice(2);
if (!model || runs.length === 0 || runs.length % 3 !== 0) {
  console.error('usage: ort_run.js MODEL REPEAT THREADS IN.bin N,C,H,W OUT.bin [...]');
  process.exit(2);
}
const ort = require(path.join(__dirname, '..', 'third_party', 'node',
                              'node_modules', 'onnxruntime-node'));

async function main() {
  const options = {graphOptimizationLevel: 'all'};
  if (Number(threadsText) > 0) {
    options.intraOpNumThreads = Number(threadsText);
    options.interOpNumThreads = 1;
  }
  const session = await ort.InferenceSession.create(model, options);
  for (let i = 0; i < runs.length; i += 3) {
    const [inputFile, dimsText, outputFile] = runs.slice(i, i + 3);
    const bytes = fs.readFileSync(inputFile);
    const values = new Float32Array(
        bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const dims = dimsText.split(',').map(Number);
    const feeds = {
      [session.inputNames[0]]: new ort.Tensor('float32', values, dims)};
    const seconds = [];
    let result;
    for (let r = 0; r < Number(repeatText); ++r) {
      const start = process.hrtime.bigint();
      result = await session.run(feeds);
      seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    const name = session.outputNames[0];
    const output = result[name];
    fs.writeFileSync(outputFile, Buffer.from(
        output.data.buffer, output.data.byteOffset, output.data.byteLength));
    console.log(JSON.stringify({name, type: output.type, dims: output.dims, seconds}));
  }
}

main().catch((error) => {
  console.error(String(error && error.message || error));
  process.exit(1);
});
