import { z } from 'zod';
/**
 * Job spec version 1: what a job creator may ask for. The database validates the same rules in
 * SQL (`internal.validate_job_spec`, supabase/migrations) so that no client can store a spec the
 * workers cannot run; `supabase/tests/job-spec-mirror.test.ts` feeds the same specs to both and
 * checks that they accept and reject alike, naming the same field. The field reference is
 * supabase/README.md ("Job spec v1").
 */
declare const activation: z.ZodEnum<{
    relu: "relu";
    sigmoid: "sigmoid";
    tanh: "tanh";
    softmax: "softmax";
    linear: "linear";
}>;
export type Activation = z.infer<typeof activation>;
export declare const jobSpecSchema: z.ZodObject<{
    version: z.ZodLiteral<1>;
    name: z.ZodOptional<z.ZodString>;
    description: z.ZodOptional<z.ZodString>;
    dataset: z.ZodDiscriminatedUnion<[z.ZodObject<{
        source: z.ZodLiteral<"builtin">;
        name: z.ZodEnum<{
            mnist: "mnist";
            iris: "iris";
            penguins: "penguins";
        }>;
    }, z.core.$strict>, z.ZodObject<{
        source: z.ZodLiteral<"csv">;
        bucket: z.ZodString;
        path: z.ZodString;
        featureColumns: z.ZodArray<z.ZodString>;
        labelColumn: z.ZodString;
    }, z.core.$strict>], "source">;
    model: z.ZodObject<{
        type: z.ZodLiteral<"mlp">;
        layers: z.ZodArray<z.ZodObject<{
            units: z.ZodNumber;
            activation: z.ZodEnum<{
                relu: "relu";
                sigmoid: "sigmoid";
                tanh: "tanh";
                softmax: "softmax";
                linear: "linear";
            }>;
        }, z.core.$strict>>;
        normalization: z.ZodOptional<z.ZodEnum<{
            none: "none";
            minmax: "minmax";
            standard: "standard";
        }>>;
    }, z.core.$strict>;
    training: z.ZodObject<{
        optimizer: z.ZodEnum<{
            sgd: "sgd";
            momentum: "momentum";
            adam: "adam";
        }>;
        learningRate: z.ZodNumber;
        batchSize: z.ZodNumber;
        localEpochs: z.ZodNumber;
        rounds: z.ZodNumber;
        shards: z.ZodNumber;
        testFraction: z.ZodOptional<z.ZodNumber>;
        minShardFraction: z.ZodOptional<z.ZodNumber>;
    }, z.core.$strict>;
    privacy: z.ZodOptional<z.ZodObject<{
        clipNorm: z.ZodNumber;
        noiseMultiplier: z.ZodOptional<z.ZodNumber>;
        targetEpsilon: z.ZodOptional<z.ZodNumber>;
        delta: z.ZodNumber;
    }, z.core.$strict>>;
    aggregation: z.ZodOptional<z.ZodObject<{
        strategy: z.ZodEnum<{
            fedavg: "fedavg";
            median: "median";
            trimmed_mean: "trimmed_mean";
        }>;
        trimFraction: z.ZodOptional<z.ZodNumber>;
        updateNormBound: z.ZodOptional<z.ZodNumber>;
    }, z.core.$strict>>;
}, z.core.$strict>;
export type JobSpec = z.infer<typeof jobSpecSchema>;
export type DatasetSpec = JobSpec['dataset'];
export type PrivacySpec = NonNullable<JobSpec['privacy']>;
export type AggregationSpec = NonNullable<JobSpec['aggregation']>;
/** A spec problem: `path` is the field as the database names it, e.g. `spec.training.batchSize`. */
export interface JobSpecIssue {
    path: string;
    message: string;
}
export declare class JobSpecError extends Error {
    readonly issues: JobSpecIssue[];
    readonly code = "OB003";
    constructor(issues: JobSpecIssue[]);
}
/** Validates a parsed JSON value as a job spec; returns the typed spec or every problem found. */
export declare function checkJobSpec(value: unknown): {
    ok: true;
    spec: JobSpec;
} | {
    ok: false;
    issues: JobSpecIssue[];
};
/** Like checkJobSpec, but throws a JobSpecError (code OB003) naming the first bad field. */
export declare function parseJobSpec(value: unknown): JobSpec;
export {};
