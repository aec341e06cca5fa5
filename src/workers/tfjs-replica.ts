import { serveTfjsReplica } from '#platform/tfjs-serving/replica';

/** One replica of a served TF.js model (DeployEngine): its own loaded model, one batch at a time. */
await serveTfjsReplica();
