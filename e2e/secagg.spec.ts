import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { MessageType } from '../src/core/net/message-types.ts';
import { DEFAULT_PARAMS } from '../src/core/secagg/params.ts';
import type { RoundView } from '../src/node/secagg-service.ts';
import { nodeId, openNodes, waitForFullMesh } from './helpers.ts';

// Secure aggregation in real tabs: 5 nodes contribute known vectors, one crashes after ShareKeys,
// every survivor shows the exact sum of the 4 remaining inputs, verified from the transcript.
test.describe.configure({ mode: 'serial' });

const ROOM = `secagg-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
// On the quantization grid (multiples of 2·clipping_range/quantization_range = 2^-18), so the
// fixed-point encoding is exact and the decoded sum must equal the real sum exactly.
const INPUTS = [
  [1.5, -2, 3.25],
  [0.5, 4, -1],
  [2, 2, 2],
  [-0.75, 1, 0.125],
  [7, 7, 7],
];
const SURVIVOR_SUM = [3.25, 5, 4.375];

let context: BrowserContext;
let pages: Page[] = [];

const views = (page: Page): Promise<RoundView[]> => page.evaluate(() => JSON.parse(JSON.stringify(window.__aegis!.secagg.views())) as RoundView[]);

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  pages = [];
  for (let i = 0; i < 5; i++) pages.push(await context.newPage());
  await openNodes(pages, ROOM);
  await waitForFullMesh(pages);
});

test.afterAll(async () => {
  await context?.close();
});

test('5 tabs, one closed after ShareKeys: the other 4 show the exact verified sum of the survivors', async () => {
  const ids = await Promise.all(pages.map(nodeId));
  // Tab 0 types its input into the dashboard; the others get theirs through the hook.
  const tab0 = pages[0]!;
  await tab0.getByTestId('secagg-input').fill('1.5, -2, 3.25');
  await tab0.getByTestId('secagg-use-input').click();
  await expect(tab0.getByTestId('current-input')).toContainText('[1.5, -2, 3.25]');
  for (let i = 1; i < 5; i++) await pages[i]!.evaluate((v) => window.__aegis!.secagg.setInput(v), INPUTS[i]!);

  // Tab 4 crashes between ShareKeys and MaskedInputCollection. Its masked input would follow its
  // ShareKeys within milliseconds, faster than a poll can react, so the tab holds that one message
  // back; it is closed once its ShareKeys is in, and never sends anything again.
  await pages[4]!.evaluate((maskedType) => {
    const node = window.__aegis!.node;
    const sendTo = node.sendTo.bind(node);
    node.sendTo = (to, type, body) => (type === maskedType ? new Promise(() => {}) : sendTo(to, type, body));
  }, MessageType.SecAggMaskedInput);

  // A direct round aggregated by tab 0 (the dashboard's button opens rounds through the chain once
  // it runs: e2e/chain-round.spec.ts).
  await tab0.evaluate(() => window.__aegis!.secagg.startRound({ dimension: 3, timeout: 3000 }));

  await expect
    .poll(async () => (await views(pages[4]!))[0]?.participantStage, { timeout: 15_000, intervals: [20] })
    .toMatch(/^(shared|masked)$/);
  await expect.poll(async () => (await views(tab0))[0]?.aggregatorCounts?.shared, { timeout: 10_000, intervals: [20] }).toBe(5);
  await pages[4]!.close();
  const survivors = pages.slice(0, 4);

  for (const [i, page] of survivors.entries()) {
    const card = page.getByTestId('round-card').first();
    await expect(card).toHaveAttribute('data-stage', 'result', { timeout: 20_000 });
    await expect(card).toHaveAttribute('data-contributors', '4');
    await expect(card.getByTestId('round-sum')).toHaveText(SURVIVOR_SUM.join(', '));
    await expect(card.getByTestId('round-verified')).toHaveText('verified from transcript ✓');
    // What this tab contributed, next to what left it: the masked vector is not the input.
    await expect(card.getByTestId('input-preview')).toHaveText(INPUTS[i]!.join(', '));
    const masked = (await card.getByTestId('masked-preview').textContent()) ?? '';
    const words = masked.split(' ').map((h) => Number.parseInt(h, 16));
    expect(words).toHaveLength(3);
    // An unmasked encoding is at most quantization_range (2^22); a masked word is uniform in 2^32.
    expect(words.some((w) => w > DEFAULT_PARAMS.quantization_range)).toBe(true);

    const [v] = await views(page);
    expect(Object.values(v!.result!.sum)).toEqual(SURVIVOR_SUM); // a Float64Array, through JSON: {"0": …}
    expect(v!.result!.verified).toBe(true);
    expect([...v!.result!.contributors].sort()).toEqual(ids.slice(0, 4).sort());
    expect(v!.result!.dropped).toEqual([ids[4]]);
  }
  const [agg] = await views(tab0);
  expect(agg!.aggregatorCounts).toMatchObject({ advertised: 5, shared: 5, masked: 4 });
  const maskedTexts = await Promise.all(survivors.map((p) => p.getByTestId('masked-preview').first().textContent()));
  expect(new Set(maskedTexts).size).toBe(4);
  pages = survivors;
});

test('a round with fewer than min_contributors inputs releases nothing, and says why', async () => {
  await pages[2]!.evaluate(() => window.__aegis!.secagg.setInput(null));
  await pages[3]!.evaluate(() => window.__aegis!.secagg.setInput(null));
  await pages[1]!.evaluate(() => window.__aegis!.secagg.startRound({ dimension: 3, timeout: 2000 }));
  for (const page of pages) {
    const card = page.getByTestId('round-card').first();
    await expect(card).toHaveAttribute('data-stage', 'aborted', { timeout: 15_000 });
    await expect(card.getByTestId('round-abort')).toHaveText('released nothing: only 2 participants advertised, min_contributors is 3');
    await expect(card.getByTestId('round-sum')).toHaveCount(0);
    const [v] = await views(page);
    expect(v!.result).toBeNull();
  }
});

test('a bad CSV is refused with its line and column and leaves the input as it was; a good one is used', async () => {
  const page = pages[0]!;
  const before = await page.getByTestId('current-input').textContent();
  const csv = (name: string, text: string) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  await page.getByTestId('secagg-csv').setInputFiles(csv('bad.csv', 'age,income\n34,1000\n35,abc\n'));
  await expect(page.getByTestId('csv-error')).toHaveText('bad.csv: line 3, column 2 "income": "abc" is not a number');
  await expect(page.getByTestId('current-input')).toHaveText(before ?? '');

  await page.getByTestId('secagg-csv').setInputFiles(csv('ok.csv', '\uFEFFname,age,income\r\n"Doe, J.",34,1000\r\nRoe,36,-250.5\r\n'));
  await expect(page.getByTestId('csv-error')).toHaveCount(0);
  await expect(page.getByTestId('csv-summary')).toContainText('2 numeric columns (age, income), 2 rows');
  await expect(page.getByTestId('csv-summary')).toContainText('text columns ignored: name');
  await expect(page.getByTestId('secagg-draft')).toContainText('will be clipped');
  await page.getByTestId('secagg-use-input').click();
  await expect(page.getByTestId('current-input')).toContainText('[age: 70, income: 749.5]');
  expect(await page.evaluate(() => window.__aegis!.secagg.currentInput)).toEqual([70, 749.5]);

  // Invalid parameters are refused in the form with the validator's message.
  await page.getByTestId('param-clipping-range').fill('0');
  await page.getByTestId('secagg-start').click();
  await expect(page.getByTestId('secagg-start-error')).toHaveText('"clipping_range" must be a finite number > 0, got 0');
});

test('a sparse round (num_shares 3 over 4 tabs: two neighbours each) fixes its graph seed by reveals in real tabs and sums exactly', async () => {
  // Every tab's own input, on the quantization grid; dimension 3 (the form's parameters are not used).
  const inputs = [
    [1, 2, 3],
    [-1.5, 0.25, 4],
    [2.5, -3, 0.5],
    [0.75, 1, -2],
  ];
  const want = [2.75, 0.25, 5.5];
  for (const [i, page] of pages.entries()) await page.evaluate((v) => window.__aegis!.secagg.setInput(v), inputs[i]!);
  const roundId = await pages[1]!.evaluate(() => window.__aegis!.secagg.startRound({ dimension: 3, timeout: 3000, num_shares: 3 }));
  for (const page of pages) {
    await expect.poll(async () => (await views(page)).find((r) => r.roundId === roundId)?.result != null, { timeout: 20_000 }).toBe(true);
    const v = (await views(page)).find((r) => r.roundId === roundId)!;
    expect(v.abortReason).toBeNull();
    expect(Object.values(v.result!.sum)).toEqual(want);
    // Shipped transcript recomputed here: its reveals opened their commitments and fixed this graph.
    expect(v.result!.verified).toBe(true);
    expect(v.stageLog.map((s) => s.stage)).toContain('revealed');
  }
  const agg = (await views(pages[1]!)).find((r) => r.roundId === roundId)!;
  // Four tabs, a committee of everyone: four reveals, then everyone shared.
  expect(agg.aggregatorCounts).toMatchObject({ advertised: 4, revealed: 4, shared: 4, masked: 4 });
});
