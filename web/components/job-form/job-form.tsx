'use client'
import Link from 'next/link'
import { useRouter } from 'next/navigation'
import { useCallback, useMemo, useState } from 'react'
import { parseEther } from 'ethers'
import { fundEscrow, readBalance } from '../../lib/chain/escrow.ts'
import { TransactionProblem } from '../../lib/chain/settlement.ts'
import { usePublicConfig } from '../../lib/config-context.tsx'
import { requestProblem, type Problem } from '../../lib/errors/request-problem.ts'
import { checkCsv, csvColumns, datasetFileProblem, datasetObjectPath } from '../../lib/job-spec/csv-file.ts'
import { uploadDataset } from '../../lib/job-spec/dataset-upload.ts'
import {
  BUILTIN_DATASETS,
  checkForm,
  defaultFormValues,
  fieldForIssue,
  fieldLabel,
  issueText,
  visibleFields,
  type FieldErrors,
  type SpecFormValues,
} from '../../lib/job-spec/spec-form.ts'
import { coins } from '../../lib/format.ts'
import { useSupabase } from '../../lib/supabase-context.tsx'
import { useWallet } from '../../lib/wallet/wallet-context.tsx'
import { ProblemBox } from '../states.tsx'
import { useWalletStep, WalletGate } from '../wallet-gate.tsx'
import { DatasetSection, type CsvChoice } from './dataset-section.tsx'
import { FieldProblems } from './form-field.tsx'
import { AggregationSection, ModelSection, PrivacySection, RewardSection, TrainingSection } from './spec-sections.tsx'

type Step = 'idle' | 'checking' | 'uploading' | 'creating' | 'funding'
const STEP_TEXT: Record<Step, string> = {
  idle: '',
  checking: 'Checking your wallet’s balance…',
  uploading: 'Uploading the data set…',
  creating: 'Creating the job…',
  funding: 'Funding the escrow: confirm the transaction in your wallet, then wait for it to be mined…',
}

/** A job that exists but whose escrow was not funded: the job page offers “Fund escrow”. */
interface Unfunded {
  jobId: string
  problem: Problem
}

/**
 * The create-job form, generated from job spec v1: every field of the spec, checked with the same
 * zod schema the database mirrors (each problem under its field), then create_job, then the
 * escrow funded from the wallet (createJob with the reward), then the job page.
 */
export function JobForm() {
  const config = usePublicConfig()
  const { supabase, session } = useSupabase()
  const wallet = useWallet()
  const router = useRouter()
  const [values, setValues] = useState<SpecFormValues>(defaultFormValues)
  const [csv, setCsv] = useState<CsvChoice | null>(null)
  /** Problems found on submit beyond the form's own checks: the database's, the upload's, the balance. */
  const [submitErrors, setSubmitErrors] = useState<FieldErrors>({})
  const [attempted, setAttempted] = useState(false)
  const [step, setStep] = useState<Step>('idle')
  const [problem, setProblem] = useState<Problem | null>(null)
  const [unfunded, setUnfunded] = useState<Unfunded | null>(null)
  const chain = config.chain
  const walletStep = useWalletStep({ session: true, chain: true })

  const userId = session?.user.id ?? null
  const csvPath = datasetObjectPath(userId ?? '<your user id>', csv?.name ?? 'data.csv')
  const summary = useMemo(
    () => (values.datasetSource === 'csv' && csv && !csv.problem && values.labelColumn && values.featureColumns.length > 0 ? checkCsv(csv.text, values.featureColumns, values.labelColumn) : null),
    [values.datasetSource, values.featureColumns, values.labelColumn, csv],
  )
  const classes = values.datasetSource === 'builtin' ? BUILTIN_DATASETS[values.builtinName].classes : summary?.ok ? summary.summary.classNames.length : undefined

  /** Every problem the form can see by itself, by field. */
  const validate = useCallback(
    (next: SpecFormValues): FieldErrors => {
      const checked = checkForm(next, { csvPath, classes: next.datasetSource === 'builtin' ? BUILTIN_DATASETS[next.builtinName].classes : classes })
      const found: FieldErrors = checked.ok ? {} : { ...checked.errors }
      if (next.datasetSource === 'csv') {
        if (!csv) found['dataset.path'] = ['Choose a CSV file.']
        else if (csv.problem) found['dataset.path'] = [csv.problem]
        else if (summary && !summary.ok) found['dataset.path'] = [summary.message]
      }
      return found
    },
    [csvPath, classes, csv, summary],
  )
  // After the first submit, problems follow the fields as they are edited.
  const liveErrors = useMemo(() => (attempted ? validate(values) : {}), [attempted, validate, values])
  const errors = useMemo(() => ({ ...liveErrors, ...submitErrors }), [liveErrors, submitErrors])

  const set = useCallback(<K extends keyof SpecFormValues>(key: K, value: SpecFormValues[K]) => {
    setSubmitErrors({})
    setValues((current) => {
      const next = { ...current, [key]: value }
      // A built-in data set fixes the number of classes: the output layer follows it.
      return key === 'builtinName' || (key === 'datasetSource' && value === 'builtin') ? withOutputUnits(next, BUILTIN_DATASETS[next.builtinName].classes) : next
    })
  }, [])

  const onFile = useCallback(
    async (file: File | null) => {
      if (!file) return setCsv(null)
      const refused = datasetFileProblem(file)
      const bytes = refused ? new Uint8Array() : new Uint8Array(await file.arrayBuffer())
      let text = ''
      let problem = refused
      if (!problem) {
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
        } catch {
          problem = `${file.name} is not UTF-8 text: save it as CSV (UTF-8) and choose it again.`
        }
      }
      const header = problem ? null : csvColumns(text)
      if (header && !header.ok) problem = header.message
      const columns = header?.ok ? header.columns : []
      if (!problem && columns.length < 2) problem = `${file.name} has ${columns.length} column: a job needs at least one feature column and a label column.`
      setCsv({ name: file.name, bytes, text, columns, problem })
      if (!problem) {
        // The last column is the label, the others are features, until the person says otherwise.
        setValues((current) => ({ ...current, labelColumn: columns.at(-1)!, featureColumns: columns.slice(0, -1) }))
      }
    },
    [],
  )

  // When the CSV parses, its classes fix the output layer (once per file and label column).
  const [sizedFor, setSizedFor] = useState<string | null>(null)
  const sizeKey = summary?.ok && csv ? `${csv.name}:${values.labelColumn}` : null
  if (sizeKey && sizeKey !== sizedFor && summary?.ok) {
    setSizedFor(sizeKey)
    setValues((current) => withOutputUnits(current, summary.summary.classNames.length))
  }

  const busy = step !== 'idle'
  const submit = async () => {
    setAttempted(true)
    setProblem(null)
    setUnfunded(null)
    setSubmitErrors({})
    const found = validate(values)
    const checked = checkForm(values, { csvPath, classes })
    if (!checked.ok || Object.keys(found).length > 0) {
      setProblem({ message: 'Some fields need attention.', next: 'Each problem is shown under its field; fix them and submit again.', code: 'FORM_INVALID' })
      return
    }
    if (walletStep || !userId) {
      setProblem({ message: 'Your wallet is not ready yet.', next: 'Follow the step shown above the button (connect, sign in, or switch network).', code: 'WALLET_NOT_READY' })
      return
    }
    const { spec, rewardWei, deadlineHours } = checked.value
    try {
      if (chain) {
        setStep('checking')
        const balance = await readBalance(chain, wallet.account!).catch(() => null)
        if (balance !== null && balance <= rewardWei) {
          setSubmitErrors({ reward: [`Your wallet holds ${coins(balance)}: not enough to escrow ${coins(rewardWei)} plus gas. Fund the wallet or lower the reward.`] })
          setProblem({ message: 'Your wallet cannot pay this reward.', next: 'Fund the wallet or lower the reward, then submit again.', code: 'INSUFFICIENT_FUNDS' })
          return
        }
      }
      let finalSpec: Record<string, unknown> = spec
      if (spec.dataset.source === 'csv' && csv) {
        setStep('uploading')
        const path = datasetObjectPath(userId, csv.name)
        const uploadProblem = await uploadDataset(supabase, path, csv.bytes)
        if (uploadProblem) {
          setSubmitErrors({ 'dataset.path': [`${uploadProblem.message} ${uploadProblem.next}`] })
          setProblem(uploadProblem)
          return
        }
        finalSpec = { ...spec, dataset: { ...spec.dataset, path } }
      }
      setStep('creating')
      const { data, error } = await supabase.rpc('create_job', { p_spec: finalSpec, p_reward_wei: rewardWei.toString() })
      if (error) {
        if (error.code === 'OB003' && error.details) {
          // The database names the field in `detail`: show it where the form shows that field.
          const field = fieldForIssue(error.details, visibleFields(values))
          setSubmitErrors({ [field]: [issueText(fieldLabel(field), error.message)] })
        }
        setProblem(requestProblem('The network refused the job', error))
        return
      }
      const job = data as { id: string; spec: unknown; reward_wei: string }
      if (chain) {
        setStep('funding')
        try {
          await fundEscrow(chain, wallet.wallet!.provider, job, deadlineHours)
        } catch (failure) {
          const reason = failure instanceof TransactionProblem ? failure : new TransactionProblem(`The escrow was not funded: ${(failure as Error).message}`, 'Try again from the job page.', false)
          setUnfunded({ jobId: job.id, problem: { message: reason.message, next: reason.next, code: reason.rejected ? 'TX_REJECTED' : 'TX_FAILED' } })
          return
        }
      }
      router.push(`/jobs/${job.id}?created=1`)
    } catch (failure) {
      setProblem(requestProblem('Could not create the job', failure))
    } finally {
      setStep('idle')
    }
  }

  return (
    <form
      className="job-form"
      data-testid="job-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault()
        if (!busy) void submit()
      }}
    >
      <fieldset className="panel" data-testid="section-about">
        <legend>About</legend>
        <div className="grid">
          <div className="field">
            <label htmlFor="field-name">Name</label>
            <input id="field-name" data-testid="field-name" value={values.name} maxLength={120} placeholder="MNIST digits with DP-SGD" onChange={(e) => set('name', e.target.value)} />
            <FieldProblems field="name" errors={errors} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="field-description">Description (optional)</label>
          <textarea id="field-description" data-testid="field-description" value={values.description} maxLength={2000} rows={2} onChange={(e) => set('description', e.target.value)} />
          <FieldProblems field="description" errors={errors} />
        </div>
      </fieldset>
      <DatasetSection values={values} set={set} errors={errors} csv={csv} summary={summary} onFile={(file) => void onFile(file)} csvPath={csvPath} />
      <ModelSection values={values} set={set} errors={errors} classes={classes} />
      <TrainingSection values={values} set={set} errors={errors} />
      <PrivacySection values={values} set={set} errors={errors} />
      <AggregationSection values={values} set={set} errors={errors} />
      <RewardSection values={values} set={set} errors={errors} symbol="SHM" chainName={chain?.name ?? null} />

      <FieldProblems field="" errors={errors} />
      {!chain && (
        <div className="notice" data-testid="no-chain-notice">
          This network runs without a chain: the job is created without an escrow, and the coordinator must fund it (<span className="mono">coordinator --fund-without-escrow</span>).
          Nobody is paid.
        </div>
      )}
      <WalletGate needs={{ session: true, chain: true }} purpose={chain ? 'create and fund a job' : 'create a job'} testId="create-job-gate" />
      {problem && <ProblemBox problem={problem} testId="create-job-error" />}
      {unfunded && (
        <div className="error" role="alert" data-testid="create-job-unfunded" data-code={unfunded.problem.code}>
          <strong>Your job was created, but its escrow was not funded.</strong> {unfunded.problem.message} {unfunded.problem.next} The job waits in “created”:{' '}
          <Link href={`/jobs/${unfunded.jobId}`} data-testid="open-unfunded-job">
            open it to fund the escrow
          </Link>
          .
        </div>
      )}
      <div className="actions">
        <button type="submit" className="button" disabled={busy || walletStep !== null} data-testid="create-job-submit">
          {busy ? 'Working…' : chain ? `Create job and escrow ${rewardText(values.reward)}` : 'Create job'}
        </button>
        {busy && (
          <span className="muted" role="status" data-testid="create-job-progress" data-step={step}>
            {STEP_TEXT[step]}
          </span>
        )}
      </div>
    </form>
  )
}

function withOutputUnits(values: SpecFormValues, classes: number): SpecFormValues {
  const layers = values.layers.map((layer, i) => (i === values.layers.length - 1 ? { ...layer, units: String(classes) } : layer))
  return { ...values, layers }
}

function rewardText(reward: string): string {
  try {
    const wei = parseEther(reward.trim())
    return wei > 0n ? coins(wei) : 'the reward'
  } catch {
    return 'the reward'
  }
}
