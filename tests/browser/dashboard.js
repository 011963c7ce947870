// The dashboard in a real browser: headless Chromium driven by
// playwright-core against `fcnlab serve` over runs and a dataset made by
// the CLI. Waits on DOM state the pages set (data-* attributes of <body>),
// never on sleeps. Keeps a screenshot of each page in --out.
//
//   node tests/browser/dashboard.js --fcnlab build/fcnlab --out DIR
//
// Exits 77 (CTest's "skipped") with a message when Chromium or
// playwright-core is missing.
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const fcnlab = path.resolve(option('--fcnlab', path.join(root, 'build', 'fcnlab')));
const out = path.resolve(option('--out', path.join(root, 'build', 'browser-screenshots')));
const chromiumPath = process.env.FCNLAB_CHROMIUM || '/usr/bin/chromium';
const SKIP = 77;

function skip(why) {
  console.log(`skipped: ${why}`);
  process.exit(SKIP);
}

let chromium;
try {
  ({chromium} = require(path.join(root, 'third_party', 'browser', 'node_modules', 'playwright-core')));
} catch (error) {
  skip('playwright-core is not installed (scripts/install-browser-test.sh)');
}
if (!fs.existsSync(chromiumPath)) skip(`no Chromium at ${chromiumPath} (apt-get install chromium)`);

function run(...command) {
  childProcess.execFileSync(fcnlab, command, {stdio: ['ignore', 'ignore', 'inherit']});
}

// Serves `folders`; resolves to {url, process} once it prints its address.
function serve(folders) {
  return new Promise((resolve, reject) => {
    const server = childProcess.spawn(fcnlab, ['serve', ...folders, '--port', '0'], {stdio: ['ignore', 'pipe', 'inherit']});
    let text = '';
    server.stdout.on('data', (chunk) => {
      text += chunk;
      const found = text.match(/(http:\/\/127\.0\.0\.1:\d+)\//);
      if (found) resolve({url: found[1], server});
    });
    server.on('exit', (code) => reject(new Error(`fcnlab serve exited with ${code}`)));
  });
}

function iterationLine(iteration, loss) {
  return JSON.stringify({type: 'iteration', epoch: 1, iteration, loss, accuracy: 0.5, lr: 0.001,
    images_per_second: 10, time: 1.7e9 + iteration}) + '\n';
}

// 20 runs of 10,000 logged iterations each, as the Trainer writes them.
function writeManyRuns(dir) {
  for (let r = 0; r < 20; r++) {
    const run = path.join(dir, `run${String(r).padStart(2, '0')}`);
    fs.mkdirSync(run, {recursive: true});
    fs.writeFileSync(path.join(run, 'run.json'), JSON.stringify({
      format: 'fcnlab-run', status: 'finished', network: 'fcn8s', dataset: 'voc', epochs: 10,
      total_iterations: 10000, started: 1.7e9, finished: 1.7e9 + 10000}));
    const lines = [];
    for (let i = 1; i <= 10000; i++) lines.push(iterationLine(i, 3 / Math.sqrt(i) + 0.01 * r));
    for (let e = 1; e <= 10; e++) {
      lines.push(JSON.stringify({type: 'epoch', epoch: e, iteration: e * 1000, val_mean_iu: 0.05 * e, time: 1.7e9 + e * 1000}) + '\n');
    }
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), lines.join(''));
  }
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fcnlab-browser-'));
  fs.mkdirSync(out, {recursive: true});
  const data = path.join(work, 'data');
  run('synth-voc', path.join(work, 'voc.tar'), '--images', '24', '--max-side', '64', '--seed', '0');
  run('prepare-voc', path.join(work, 'voc.tar'), path.join(data, 'voc'));
  run('create-db', '--train-images', path.join(data, 'voc/train/images'), '--train-labels', path.join(data, 'voc/train/labels'),
    '--val-images', path.join(data, 'voc/val/images'), '--val-labels', path.join(data, 'voc/val/labels'), '--out', path.join(data, 'db'));
  const tiny = path.join(__dirname, 'tiny.prototxt');
  for (const [name, lr] of [['sgd-1e-3', '1e-3'], ['sgd-1e-2', '1e-2']]) {
    run('train', path.join(data, 'db'), '--network', tiny, '--epochs', '3', '--lr', lr, '--output-dir', path.join(work, 'runs', name));
  }

  const {url, server} = await serve([path.join(work, 'runs'), data]);
  const browser = await chromium.launch({executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run']});
  const failures = [];
  try {
    const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
    page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
    const open = async (address) => {
      await page.goto(url + address);
      await page.waitForFunction(() => document.body.dataset.ready);
      assert.strictEqual(await page.evaluate(() => document.body.dataset.ready), '1',
        `${address}: ${await page.textContent('main')}`);
    };
    const shoot = async (name) => {
      await page.waitForFunction(() => [...document.images].every((image) => image.complete));
      await page.screenshot({path: path.join(out, `${name}.png`), fullPage: true});
    };

    // Runs: both runs listed, finished.
    await open('/');
    assert.strictEqual(await page.getAttribute('body', 'data-runs'), '2');
    assert.match(await page.textContent('tr[data-run="runs~sgd-1e-3"]'), /finished/);
    await shoot('runs');
    // ?live=0: drawn once, no event stream.
    await open('/?live=0');
    assert.strictEqual(await page.getAttribute('body', 'data-runs'), '2');
    assert.strictEqual(await page.textContent('#live'), '');

    // Run: a line appended to metrics.jsonl moves the chart, and a zoom
    // made by dragging over the loss chart survives the update.
    await open('/run/runs~sgd-1e-3');
    const lossScale = () => page.evaluate(() => {
      const plot = window.fcnlabCharts.find(([name]) => name === 'loss')[1];
      return [plot.scales.x.min, plot.scales.x.max];
    });
    const whole = await lossScale();
    const over = await (await page.$('.panel .u-over')).boundingBox();
    await page.mouse.move(over.x + over.width * 0.2, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.6, over.y + over.height / 2, {steps: 5});
    await page.mouse.up();
    const zoomed = await lossScale();
    assert.ok(zoomed[1] - zoomed[0] < (whole[1] - whole[0]) * 0.6, `no zoom: ${zoomed} of ${whole}`);
    const before = Number(await page.getAttribute('body', 'data-iterations'));
    const metrics = path.join(work, 'runs', 'sgd-1e-3', 'metrics.jsonl');
    const last = fs.readFileSync(metrics, 'utf8').trim().split('\n')
      .map((line) => JSON.parse(line)).filter((line) => line.type === 'iteration').pop();
    const appended = Date.now();
    fs.appendFileSync(metrics, iterationLine(last.iteration + 1, 0.123));
    await page.waitForFunction((n) => Number(document.body.dataset.iterations) === n, before + 1, {timeout: 10000});
    const latency = Date.now() - appended;
    assert.strictEqual(await page.getAttribute('body', 'data-last-loss'), '0.123');
    assert.deepStrictEqual(await lossScale(), zoomed, 'the update reset the zoom');
    await page.dblclick('.panel .u-over'); // back to the whole run for the picture
    console.log(`an appended line reached the open run page in ${latency} ms`);
    assert.ok(latency < 2000, `an appended line took ${latency} ms to reach the page`);
    assert.ok(await page.$('svg.confusion'), 'the run page shows a confusion matrix');
    await shoot('run');

    // Compare: the learning rate is the option that differs.
    await open('/compare?runs=runs~sgd-1e-3,runs~sgd-1e-2');
    assert.match(await page.textContent('#differing'), /base_lr/);
    await shoot('compare');

    // Network: a box for the input and one for each layer the network runs
    // (the prototxt's Input and loss layers are the input and the training).
    await open('/network/runs~sgd-1e-3');
    const prototxt = fs.readFileSync(path.join(work, 'runs', 'sgd-1e-3', 'train.prototxt'), 'utf8');
    const types = [...prototxt.matchAll(/^  type: "(\w+)"/gm)].map((m) => m[1]);
    const computing = types.filter((t) => !['Input', 'SoftmaxWithLoss'].includes(t)).length;
    assert.strictEqual(Number(await page.getAttribute('body', 'data-layers')), computing + 1);
    for (const name of ['conv1', 'relu1', 'score']) {
      assert.ok(await page.$(`g.node:has(title:text-is("layer:${name}"))`), `no box for ${name}`);
    }
    await shoot('network');

    // Test One: an uploaded validation image comes back segmented.
    await open('/test/runs~sgd-1e-3');
    const images = path.join(data, 'voc', 'val', 'images');
    await page.setInputFiles('input[type=file]', path.join(images, fs.readdirSync(images).sort()[0]));
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.segmented);
    assert.ok(Number(await page.getAttribute('body', 'data-segmented')) >= 1);
    assert.ok(await page.$('#overlay'));
    // ... and so does a validation image of the run's dataset, through a
    // snapshot's weights.
    await page.setInputFiles('input[type=file]', []);
    await page.waitForFunction(() => document.querySelectorAll('#validation-image option').length > 1);
    await page.selectOption('#validation-image', {index: 1});
    await page.selectOption('select[name=model]', {index: 1});
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.segmentations === '2');
    assert.ok(await page.$('#overlay'));
    await shoot('test-one');

    // Dataset: a grid of samples; filtering by a class keeps only those.
    await open('/dataset/data~db');
    assert.ok(Number(await page.getAttribute('body', 'data-tiles')) > 0);
    await shoot('dataset');
    const horse = 13;
    await page.selectOption('#class-filter', String(horse));
    await page.waitForFunction((c) => document.body.dataset.filter === String(c), horse);
    const captions = await page.$$eval('figure.tile figcaption', (nodes) => nodes.map((n) => n.textContent));
    assert.ok(captions.length > 0, 'no sample holds a horse');
    for (const caption of captions) assert.match(caption, /horse/);

    // Speed: the runs page over 20 runs of 10,000 iterations each.
    const many = path.join(work, 'many');
    writeManyRuns(many);
    const second = await serve([many]);
    try {
      await page.goto(second.url + '/');
      await page.waitForFunction(() => document.body.dataset.ready === '1');
      const rendered = Number(await page.getAttribute('body', 'data-render-ms'));
      assert.strictEqual(await page.getAttribute('body', 'data-runs'), '20');
      console.log(`runs page over 20 runs of 10,000 iterations: rendered in ${rendered} ms`);
      assert.ok(rendered < 300, `the runs page took ${rendered} ms`);
    } finally {
      second.server.kill('SIGTERM');
    }
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    fs.rmSync(work, {recursive: true, force: true});
  }
  if (failures.length) throw new Error(failures.join('\n'));
  console.log(`screenshots in ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
