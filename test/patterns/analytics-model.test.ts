import { expect } from 'chai';
import { analysisSettingsSchema } from '../../src/patterns/analytics-dataset.js';
import { historicalFeatures, successPredictions } from '../../src/patterns/analytics-model.js';
import { analyticsInput, plantedHistory, type PlantedEffect } from './analytics-input.js';

const bullBear = (t: number) => (Math.floor(t / 40) % 2 === 0 ? 0 : 1);

function history(success: PlantedEffect['success'], seed = 21) {
  return analyticsInput(
    plantedHistory({ seed, symbols: 40, sessions: 500, patterns: ['planted', 'plain'], rate: 0.04, success, regime: bullBear }),
  );
}

describe('success model', () => {
  const settings = analysisSettingsSchema.parse({ model: { recentSessions: 40 } });

  it('should recover a pattern that works only in bull regimes, out of sample and in its predictions', () => {
    const input = history((pattern, regime) => (pattern === 0 && regime === 0 ? 0.8 : 0.5));
    const result = successPredictions(input, settings);
    const accuracy = result.historicalAccuracy;
    expect(accuracy.folds).to.equal(8);
    expect(accuracy.auc).to.be.above(0.6);
    expect(accuracy.brierSkillScore).to.be.above(0.02);
    expect(accuracy.brierScore).to.be.below(accuracy.referenceBrierScore!);
    expect(accuracy.logLoss).to.be.below(accuracy.referenceLogLoss!);
    // The last 40 sessions (460–499) are bear then bull: 460–479 bear, 480–499 bull.
    const of = (pattern: string, regime: string) =>
      result.predictions.filter((p) => p.pattern === pattern && p.marketContextInfluence.regime === regime);
    const plantedBull = of('planted', 'bull');
    const plantedBear = of('planted', 'bear');
    expect(plantedBull.length).to.be.greaterThan(5);
    expect(plantedBear.length).to.be.greaterThan(5);
    for (const prediction of plantedBull) {
      expect(prediction.predictedSuccessProbability).to.be.within(0.7, 0.9);
      expect(prediction.confidenceInterval[0]).to.be.below(prediction.predictedSuccessProbability);
      expect(prediction.confidenceInterval[1]).to.be.above(prediction.predictedSuccessProbability);
      expect(prediction.marketContextInfluence.shift).to.be.above(0.05);
      expect(['pattern in this market regime', 'market regime']).to.include(prediction.keyFactors[0].factor);
    }
    for (const prediction of [...plantedBear, ...of('plain', 'bull'), ...of('plain', 'bear')]) {
      expect(prediction.predictedSuccessProbability).to.be.within(0.4, 0.62);
    }
    const importance = plantedBull[0].keyFactors.reduce((sum, factor) => sum + factor.importance, 0);
    expect(importance).to.be.closeTo(1, 1e-9);
  });

  it('should find nothing to predict when success is a coin toss everywhere', () => {
    const result = successPredictions(
      history(() => 0.5, 22),
      settings,
    );
    expect(result.historicalAccuracy.auc).to.be.within(0.45, 0.55);
    expect(result.historicalAccuracy.brierSkillScore).to.be.below(0.01);
    for (const prediction of result.predictions) expect(prediction.predictedSuccessProbability).to.be.within(0.4, 0.6);
  });

  it('should fit the maximum-likelihood model: predictions average to the success rate they were fitted on', () => {
    const input = history((pattern, regime) => (pattern === 0 && regime === 0 ? 0.8 : 0.4));
    const everything = analysisSettingsSchema.parse({ model: { recentSessions: 500, trainingCap: 100_000 } });
    const result = successPredictions(input, everything);
    const known = result.predictions.filter((p) => input.detections.success[p.patternId - 1] >= 0);
    const meanForecast = known.reduce((sum, p) => sum + p.predictedSuccessProbability, 0) / known.length;
    const meanOutcome = known.reduce((sum, p) => sum + input.detections.success[p.patternId - 1], 0) / known.length;
    expect(result.model.trainedOn).to.equal(known.length);
    expect(meanForecast).to.be.closeTo(meanOutcome, 0.005);
  });

  it('should build every feature from outcomes known before the detection’s session', () => {
    const input = history((pattern, regime) => (pattern === 0 && regime === 0 ? 0.8 : 0.5));
    const d = input.detections;
    const before = historicalFeatures(input, 20, new Set());
    // Flip every outcome that becomes known at or after session 300.
    for (let i = 0; i < d.count; i++)
      if (d.knownSession[i] >= 300) d.success[i] = d.success[i] === 1 ? 0 : d.success[i] === 0 ? 1 : -1;
    const after = historicalFeatures(input, 20, new Set());
    let unchanged = 0;
    let changed = 0;
    for (let i = 0; i < d.count; i++) {
      const same = before.values.slice(i * 7, i * 7 + 7).every((value, k) => value === after.values[i * 7 + k]);
      if (d.session[i] <= 300) {
        expect(same, `detection ${i} at session ${d.session[i]}`).to.equal(true);
        unchanged++;
      } else if (!same) changed++;
    }
    expect(unchanged).to.be.greaterThan(100);
    expect(changed).to.be.greaterThan(100);
  });

  it('should explain an empty accuracy when too few outcomes are known', () => {
    const input = analyticsInput({
      patterns: ['alpha'],
      symbols: 1,
      sessions: 30,
      detections: [{ symbol: 0, session: 3, pattern: 0, success: 1 }],
    });
    const result = successPredictions(input, settings);
    expect(result.historicalAccuracy.predictions).to.equal(0);
    expect(result.historicalAccuracy.note).to.match(/fewer than 500 outcomes/);
  });
});
