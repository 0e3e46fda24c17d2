// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title OblivionSettlement
/// @notice Escrow for Oblivion training jobs, worker bonds, Merkle-root settlement of worker payouts,
///         slashing and pull-payment credits. Native coin only (SHM on Shardeum).
/// @dev Lifecycle of a job: None -> Funded -> (Cancelled | Expired | Settled); a dispute during the
///      challenge window takes a Settled job back to Funded.
///
///      Every wei the contract holds is owed to someone and counted in exactly one of five totals
///      (escrow of Funded jobs, bonded, unbonding, unclaimed payouts, credits), so
///      `address(this).balance == accountedBalance()` holds after every transaction; the tests check it
///      after each case and the invariant fuzzer after each step.
///
///      Value is pushed only to `msg.sender` (refund, claim, withdrawals). Money owed to anyone else
///      (a creator's remainder, expiry refund or slashed bond) becomes a credit the owner pulls with
///      `withdrawCredits`, so no call can be blocked by a receiver that reverts.
///
///      Written for Shardeum (Istanbul gas rules; compiled for `paris`, no PUSH0 or transient storage):
///      under Istanbul every SLOAD costs 800 and every fresh slot 20000, so the hot path of a claim reads
///      one packed slot per job and writes one packed slot per job plus one packed slot of totals.
contract OblivionSettlement is ReentrancyGuard {
    // ------------------------------------------------------------------------------------------
    // Types and storage
    // ------------------------------------------------------------------------------------------

    /// @dev The ABI encodes this enum as uint8: 0 None, 1 Funded, 2 Cancelled, 3 Expired, 4 Settled.
    enum JobStatus {
        None,
        Funded,
        Cancelled,
        Expired,
        Settled
    }

    /// @dev Four slots. Slot 1 holds everything a claim reads or writes besides the root, so a claim
    ///      touches two job slots. uint96 holds 7.9e28 wei, far above any coin's supply; larger
    ///      amounts are refused with `AmountTooLarge` rather than truncated.
    struct Job {
        // slot 0
        address creator;
        uint64 deadline;
        JobStatus status;
        bool started;
        // slot 1
        uint96 escrow; // the amount funded; kept after the job closes, for the record
        uint96 unclaimed; // payouts of a Settled job not claimed yet
        uint64 settledAt; // non-zero exactly while the job is Settled
        // slots 2 and 3
        bytes32 specHash;
        bytes32 payoutRoot;
    }

    /// @dev One slot per worker.
    struct Bond {
        uint96 bonded;
        uint96 unbonding;
        uint64 unlockAt;
    }

    /// @notice Seconds between a worker's unbond request and the moment the amount can be withdrawn;
    ///         it gives the validator time to slash misbehaviour found after the fact.
    uint64 public immutable unbondingDelay;

    /// @notice Seconds after a settlement during which the owner may dispute it and no one may claim.
    uint64 public immutable challengeWindow;

    /// @notice The deployer, or whom it handed the role to: may dispute settlements and change roles.
    address public owner;

    /// @notice The coordinator's key: starts, settles and slashes.
    address public validator;

    mapping(bytes32 jobId => Job) private _jobs;
    mapping(address worker => Bond) private _bonds;
    /// @dev Claimed leaves, one bit per position in the job's payout tree (see _leafPosition): 256
    ///      claims share a word, so all but the first claim in a word pay 5000 gas for the flag instead
    ///      of the 20000 a fresh (job, worker) slot costs under Istanbul.
    mapping(bytes32 jobId => mapping(uint256 word => uint256 bits)) private _claimed;

    /// @notice Pull payments owed to an account (remainders, expiry refunds, slashed bonds).
    mapping(address account => uint256) public credits;

    // Totals behind accountedBalance(), packed in pairs that change together: a settle moves escrow
    // to unclaimed, an unbond request moves bonded to unbonding, a claim touches one slot.
    uint128 private _totalEscrow;
    uint128 private _totalUnclaimed;
    uint128 private _totalBonded;
    uint128 private _totalUnbonding;
    uint256 private _totalCredits;

    // ------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ValidatorChanged(address indexed previousValidator, address indexed newValidator);

    event JobFunded(bytes32 indexed jobId, address indexed creator, uint256 amount, bytes32 specHash, uint64 deadline);
    event JobStarted(bytes32 indexed jobId);
    event JobCancelled(bytes32 indexed jobId, uint256 refund);
    event JobExpired(bytes32 indexed jobId, uint256 refund);
    event JobSettled(
        bytes32 indexed jobId,
        bytes32 payoutRoot,
        uint256 totalPayout,
        uint32 payoutCount,
        uint256 remainder,
        bytes32 modelCidHash,
        bytes32 metricsHash
    );
    event SettlementDisputed(bytes32 indexed jobId);
    event PayoutClaimed(bytes32 indexed jobId, address indexed worker, uint256 amount);

    event Bonded(address indexed worker, uint256 amount, uint256 total);
    event UnbondRequested(address indexed worker, uint256 amount, uint64 unlockAt);
    event Withdrawn(address indexed worker, uint256 amount);
    event Slashed(address indexed worker, bytes32 indexed jobId, uint256 amount, bytes32 evidenceHash);

    event CreditsWithdrawn(address indexed account, uint256 amount);

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    error NotOwner();
    error NotValidator();
    error NotCreator();
    error ZeroAddress();
    error JobExists();
    error UnknownJob();
    /// @param status the job's current status (see JobStatus)
    error WrongStatus(uint8 status);
    error AlreadyStarted();
    error BadDeadline();
    error NotExpired();
    error ChallengeWindowOpen();
    error ChallengeWindowClosed();
    /// @dev settle with a positive total needs a root and a count, or the payouts could never be claimed.
    error EmptyPayoutRoot();
    error PayoutExceedsEscrow();
    error InvalidProof();
    error AlreadyClaimed();
    /// @dev a dispute cannot take back a remainder the creator already withdrew.
    error RemainderWithdrawn();
    error ZeroAmount();
    error AmountTooLarge();
    error InsufficientBond();
    error StillUnbonding(uint64 unlockAt);
    error TransferFailed();

    // ------------------------------------------------------------------------------------------
    // Roles
    // ------------------------------------------------------------------------------------------

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier onlyValidator() {
        if (msg.sender != validator) revert NotValidator();
        _;
    }

    /// @param validator_ the coordinator's key
    /// @param unbondingDelay_ seconds an unbonding amount stays slashable
    /// @param challengeWindow_ seconds a settlement stays disputable before payouts can be claimed
    constructor(address validator_, uint64 unbondingDelay_, uint64 challengeWindow_) {
        if (validator_ == address(0)) revert ZeroAddress();
        owner = msg.sender;
        validator = validator_;
        unbondingDelay = unbondingDelay_;
        challengeWindow = challengeWindow_;
        emit OwnershipTransferred(address(0), msg.sender);
        emit ValidatorChanged(address(0), validator_);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Rotates the coordinator's key. Jobs in flight keep their state; only who may act changes.
    function setValidator(address newValidator) external onlyOwner {
        if (newValidator == address(0)) revert ZeroAddress();
        emit ValidatorChanged(validator, newValidator);
        validator = newValidator;
    }

    // ------------------------------------------------------------------------------------------
    // Jobs (escrow)
    // ------------------------------------------------------------------------------------------

    /// @notice Escrows msg.value for a job. The id is the job's uuid right-aligned in 32 bytes.
    /// @param specHash sha-256 digest of the job spec's CID, so the escrow is tied to one spec
    /// @param deadline after it, anyone may expire the job and the escrow goes back to the creator
    function createJob(bytes32 jobId, bytes32 specHash, uint64 deadline) external payable {
        if (msg.value == 0) revert ZeroAmount();
        if (msg.value > type(uint96).max) revert AmountTooLarge();
        if (deadline <= block.timestamp) revert BadDeadline();
        Job storage job = _jobs[jobId];
        if (job.status != JobStatus.None) revert JobExists();

        job.creator = msg.sender;
        job.deadline = deadline;
        job.status = JobStatus.Funded;
        job.escrow = uint96(msg.value);
        job.specHash = specHash;
        _totalEscrow += uint128(msg.value);

        emit JobFunded(jobId, msg.sender, msg.value, specHash, deadline);
    }

    /// @notice The coordinator marks the job as started; from then on the creator can no longer cancel,
    ///         because workers are spending effort on it. Expiry still applies.
    function markStarted(bytes32 jobId) external onlyValidator {
        Job storage job = _jobs[jobId];
        _requireStatus(job, JobStatus.Funded);
        if (job.started) revert AlreadyStarted();
        job.started = true;
        emit JobStarted(jobId);
    }

    /// @notice The creator takes the whole escrow back while no work has started.
    function cancelJob(bytes32 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        if (job.status == JobStatus.None) revert UnknownJob();
        if (msg.sender != job.creator) revert NotCreator();
        _requireStatus(job, JobStatus.Funded);
        if (job.started) revert AlreadyStarted();

        uint96 refund = job.escrow;
        job.status = JobStatus.Cancelled;
        _totalEscrow -= refund;

        emit JobCancelled(jobId, refund);
        _sendToSender(refund);
    }

    /// @notice Anyone may close a job the coordinator did not settle by its deadline; the escrow becomes
    ///         the creator's credit (pulled, never pushed, so a stranger's call cannot fail on the creator).
    function expireJob(bytes32 jobId) external {
        Job storage job = _jobs[jobId];
        _requireStatus(job, JobStatus.Funded);
        if (block.timestamp <= job.deadline) revert NotExpired();

        uint96 refund = job.escrow;
        job.status = JobStatus.Expired;
        _totalEscrow -= refund;
        _credit(job.creator, refund);

        emit JobExpired(jobId, refund);
    }

    // ------------------------------------------------------------------------------------------
    // Settlement
    // ------------------------------------------------------------------------------------------

    /// @notice Records the job's outcome: a Merkle root of (worker, amount) payouts and the hashes of the
    ///         published model and metrics. What is not paid out is credited back to the creator.
    /// @dev One transaction per job however many workers it paid; each worker then claims its own leaf.
    ///      Allowed past the deadline as long as nobody expired the job first. A second settle reverts
    ///      (the job is no longer Funded) unless the owner disputed the first one.
    /// @param payoutRoot root of an OpenZeppelin StandardMerkleTree over (address, uint256) leaves
    /// @param totalPayout sum of the tree's amounts; claims can never take more than this from the job
    /// @param payoutCount number of leaves, for indexers
    function settle(
        bytes32 jobId,
        bytes32 payoutRoot,
        uint256 totalPayout,
        uint32 payoutCount,
        bytes32 modelCidHash,
        bytes32 metricsHash
    ) external onlyValidator {
        Job storage job = _jobs[jobId];
        _requireStatus(job, JobStatus.Funded);
        uint96 escrow = job.escrow;
        if (totalPayout > escrow) revert PayoutExceedsEscrow();
        if (totalPayout != 0 && (payoutRoot == bytes32(0) || payoutCount == 0)) revert EmptyPayoutRoot();

        uint96 payout = uint96(totalPayout);
        uint96 remainder;
        unchecked {
            remainder = escrow - payout;
        }
        job.status = JobStatus.Settled;
        job.payoutRoot = payoutRoot;
        job.unclaimed = payout;
        job.settledAt = uint64(block.timestamp);
        _totalEscrow -= escrow;
        _totalUnclaimed += payout;
        if (remainder != 0) _credit(job.creator, remainder);

        emit JobSettled(jobId, payoutRoot, totalPayout, payoutCount, remainder, modelCidHash, metricsHash);
    }

    /// @notice Pays msg.sender its leaf of the job's payout tree, once, after the challenge window.
    /// @dev Leaf = keccak256(bytes.concat(keccak256(abi.encode(msg.sender, amount)))), the
    ///      StandardMerkleTree encoding: hashing twice keeps a leaf from ever equalling an inner node.
    ///      The claimed flag is a bit at the leaf's position in the tree, which the proof determines
    ///      (see _leafPosition). Measured on anvil (Istanbul), 64 fresh workers: 53.5k gas per claim,
    ///      55.2k per paid worker with the settle; per-(job, worker) bool flags cost 70.0k and 71.7k.
    ///      Off-chain tree builders must not give one address two leaves (buildPayoutTree merges them).
    function claimPayout(bytes32 jobId, uint256 amount, bytes32[] calldata proof) external nonReentrant {
        Job storage job = _jobs[jobId];
        uint64 settledAt = job.settledAt;
        if (settledAt == 0) _revertNotSettled(job);
        if (block.timestamp < uint256(settledAt) + challengeWindow) revert ChallengeWindowOpen();
        if (amount == 0) revert ZeroAmount();
        (bytes32 computedRoot, uint256 position) = _leafPosition(proof, _payoutLeaf(msg.sender, amount));
        if (computedRoot != job.payoutRoot) revert InvalidProof();
        mapping(uint256 => uint256) storage claimedBits = _claimed[jobId];
        uint256 bits = claimedBits[position >> 8];
        uint256 mask = 1 << (position & 0xff);
        if (bits & mask != 0) revert AlreadyClaimed();
        uint96 unclaimed = job.unclaimed;
        // Only a root whose amounts sum to more than totalPayout gets here; the job's own cap keeps such
        // a root from paying out other jobs' money.
        if (amount > unclaimed) revert PayoutExceedsEscrow();

        claimedBits[position >> 8] = bits | mask;
        unchecked {
            // amount <= unclaimed <= _totalUnclaimed
            job.unclaimed = unclaimed - uint96(amount);
            _totalUnclaimed -= uint128(amount);
        }

        emit PayoutClaimed(jobId, msg.sender, amount);
        _sendToSender(amount);
    }

    /// @notice The owner rejects a settlement before anyone could claim from it: the job is Funded again,
    ///         the remainder credit is taken back, and the validator may settle it anew.
    function disputeSettlement(bytes32 jobId) external onlyOwner {
        Job storage job = _jobs[jobId];
        _requireStatus(job, JobStatus.Settled);
        if (block.timestamp >= uint256(job.settledAt) + challengeWindow) revert ChallengeWindowClosed();

        // Claims only open when the window closes, so nothing has been paid out of this job yet.
        uint96 payout = job.unclaimed;
        uint96 escrow = job.escrow;
        uint96 remainder = escrow - payout;
        address creator = job.creator;
        if (remainder != 0) {
            uint256 credit = credits[creator];
            if (credit < remainder) revert RemainderWithdrawn();
            credits[creator] = credit - remainder;
            _totalCredits -= remainder;
        }
        job.status = JobStatus.Funded;
        job.payoutRoot = bytes32(0);
        job.unclaimed = 0;
        job.settledAt = 0;
        _totalUnclaimed -= payout;
        _totalEscrow += escrow;

        emit SettlementDisputed(jobId);
    }

    // ------------------------------------------------------------------------------------------
    // Bonds
    // ------------------------------------------------------------------------------------------

    /// @notice Adds msg.value to the sender's bond, the stake the validator can slash.
    function bond() external payable {
        if (msg.value == 0) revert ZeroAmount();
        Bond storage b = _bonds[msg.sender];
        uint256 total = uint256(b.bonded) + msg.value;
        // Bonded plus unbonding must fit uint96 too, so requestUnbond can never overflow.
        if (total + b.unbonding > type(uint96).max) revert AmountTooLarge();
        b.bonded = uint96(total);
        _totalBonded += uint128(msg.value);
        emit Bonded(msg.sender, msg.value, total);
    }

    /// @notice Moves `amount` from bonded to unbonding. It stays slashable for `unbondingDelay`; a new
    ///         request adds to the pending amount and restarts the timer for all of it.
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Bond storage b = _bonds[msg.sender];
        if (amount > b.bonded) revert InsufficientBond();
        uint64 unlockAt = uint64(block.timestamp) + unbondingDelay;
        unchecked {
            // amount <= bonded, and bond() keeps bonded + unbonding within uint96
            b.bonded -= uint96(amount);
            b.unbonding += uint96(amount);
            _totalBonded -= uint128(amount);
        }
        _totalUnbonding += uint128(amount);
        b.unlockAt = unlockAt;
        emit UnbondRequested(msg.sender, amount, unlockAt);
    }

    /// @notice Sends the sender's whole unbonding amount once its delay has passed.
    function withdrawUnbonded() external nonReentrant {
        Bond storage b = _bonds[msg.sender];
        uint96 amount = b.unbonding;
        if (amount == 0) revert ZeroAmount();
        uint64 unlockAt = b.unlockAt;
        if (block.timestamp < unlockAt) revert StillUnbonding(unlockAt);

        b.unbonding = 0;
        b.unlockAt = 0;
        _totalUnbonding -= amount;

        emit Withdrawn(msg.sender, amount);
        _sendToSender(amount);
    }

    // ------------------------------------------------------------------------------------------
    // Slashing
    // ------------------------------------------------------------------------------------------

    /// @notice Takes up to `amount` of a worker's stake, bonded first, then unbonding (which is why
    ///         unbonding waits), and credits it to the job's creator, whose job the misbehaviour hurt.
    /// @param evidenceHash sha-256 digest of the evidence's CID, for the record
    function slash(address worker, bytes32 jobId, uint256 amount, bytes32 evidenceHash) external onlyValidator {
        Job storage job = _jobs[jobId];
        if (job.status == JobStatus.None) revert UnknownJob();
        if (amount == 0) revert ZeroAmount();
        Bond storage b = _bonds[worker];
        uint96 bonded = b.bonded;
        uint96 unbonding = b.unbonding;

        uint256 fromBonded = amount < bonded ? amount : bonded;
        uint256 rest = amount - fromBonded;
        uint256 fromUnbonding = rest < unbonding ? rest : unbonding;
        uint256 taken = fromBonded + fromUnbonding;
        if (taken == 0) revert InsufficientBond();

        unchecked {
            b.bonded = bonded - uint96(fromBonded);
            b.unbonding = unbonding - uint96(fromUnbonding);
            _totalBonded -= uint128(fromBonded);
            _totalUnbonding -= uint128(fromUnbonding);
        }
        _credit(job.creator, taken);

        emit Slashed(worker, jobId, taken, evidenceHash);
    }

    // ------------------------------------------------------------------------------------------
    // Credits
    // ------------------------------------------------------------------------------------------

    /// @notice Sends the sender everything credited to it.
    function withdrawCredits() external nonReentrant {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert ZeroAmount();
        credits[msg.sender] = 0;
        _totalCredits -= amount;

        emit CreditsWithdrawn(msg.sender, amount);
        _sendToSender(amount);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @param jobId the job's uuid right-aligned in 32 bytes
    /// @return creator who funded the job (zero for an unknown id)
    /// @return status 0 None, 1 Funded, 2 Cancelled, 3 Expired, 4 Settled
    /// @return started whether the validator marked the job started
    /// @return escrow the amount funded
    /// @return deadline after which the job can be expired
    /// @return specHash sha-256 digest of the spec's CID
    /// @return payoutRoot payout tree root while Settled, else zero
    /// @return settledAt settlement time while Settled, else zero
    /// @return unclaimed payouts not claimed yet
    function getJob(bytes32 jobId)
        external
        view
        returns (
            address creator,
            uint8 status,
            bool started,
            uint256 escrow,
            uint64 deadline,
            bytes32 specHash,
            bytes32 payoutRoot,
            uint64 settledAt,
            uint256 unclaimed
        )
    {
        Job storage job = _jobs[jobId];
        return (
            job.creator,
            uint8(job.status),
            job.started,
            job.escrow,
            job.deadline,
            job.specHash,
            job.payoutRoot,
            job.settledAt,
            job.unclaimed
        );
    }

    /// @return bonded slashable stake
    /// @return unbonding requested for withdrawal, still slashable until unlockAt
    /// @return unlockAt when the unbonding amount can be withdrawn (zero when none is pending)
    function bondOf(address worker) external view returns (uint256 bonded, uint256 unbonding, uint64 unlockAt) {
        Bond storage b = _bonds[worker];
        return (b.bonded, b.unbonding, b.unlockAt);
    }

    /// @notice Whether `worker` claimed its payout from the job. Takes the worker's leaf and proof (as
    ///         for claimPayout) because claims are recorded by tree position; reverts InvalidProof
    ///         when they do not match the job's current payout root. Without a proof, look for
    ///         PayoutClaimed(jobId, worker) logs.
    function isClaimed(bytes32 jobId, address worker, uint256 amount, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        (bytes32 computedRoot, uint256 position) = _leafPosition(proof, _payoutLeaf(worker, amount));
        if (computedRoot != _jobs[jobId].payoutRoot) revert InvalidProof();
        return _claimed[jobId][position >> 8] & (1 << (position & 0xff)) != 0;
    }

    /// @notice Everything the contract owes; equals address(this).balance after every transaction.
    function accountedBalance() external view returns (uint256) {
        return uint256(_totalEscrow) + _totalUnclaimed + _totalBonded + _totalUnbonding + _totalCredits;
    }

    /// @notice The five totals behind accountedBalance(), for monitoring and the invariant tests.
    function totals()
        external
        view
        returns (uint256 escrow, uint256 unclaimed, uint256 bonded, uint256 unbonding, uint256 credited)
    {
        return (_totalEscrow, _totalUnclaimed, _totalBonded, _totalUnbonding, _totalCredits);
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    function _requireStatus(Job storage job, JobStatus expected) private view {
        JobStatus status = job.status;
        if (status == expected) return;
        if (status == JobStatus.None) revert UnknownJob();
        revert WrongStatus(uint8(status));
    }

    /// @dev Cold path of claimPayout: explains why a job without settledAt cannot be claimed from.
    function _revertNotSettled(Job storage job) private view {
        _requireStatus(job, JobStatus.Settled);
        revert WrongStatus(uint8(JobStatus.Settled)); // unreachable: settledAt is set while Settled
    }

    /// @dev The StandardMerkleTree leaf of a payout.
    function _payoutLeaf(address worker, uint256 amount) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(worker, amount))));
    }

    /// @dev Walks a proof like OpenZeppelin's MerkleProof.processProofCalldata (sorted pairs) and also
    ///      returns the leaf's position: bit i says whether the running hash was the larger of the pair
    ///      at level i, and a 1 above the last bit marks the proof's length. Two leaves of one tree part
    ///      where their paths meet, and there the two children compare in opposite ways, so distinct
    ///      leaves get distinct positions (and proofs of different lengths differ in the marker bit).
    ///      A leaf has a single path to the root (hashes do not collide), so its position is fixed.
    ///      For n leaves the positions lie in [2^floor(log2 n), 2^(ceil(log2 n) + 1)): under 4n bits.
    ///      Proofs longer than 64 (a tree of 2^64 leaves) are refused so the marker bit stays in range.
    function _leafPosition(bytes32[] calldata proof, bytes32 leaf)
        private
        pure
        returns (bytes32 computed, uint256 position)
    {
        uint256 length = proof.length;
        if (length > 64) revert InvalidProof();
        computed = leaf;
        for (uint256 i = 0; i < length; ++i) {
            bytes32 sibling = proof[i];
            if (computed < sibling) {
                computed = _hashPair(computed, sibling);
            } else {
                position |= 1 << i;
                computed = _hashPair(sibling, computed);
            }
        }
        position |= 1 << length;
    }

    /// @dev keccak256(abi.encodePacked(a, b)) in scratch space, without allocating memory.
    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32 value) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            value := keccak256(0x00, 0x40)
        }
    }

    function _credit(address account, uint256 amount) private {
        credits[account] += amount;
        _totalCredits += amount;
    }

    /// @dev Forwards all gas (the sender may be a contract wallet) and copies no return data, so a
    ///      receiver cannot make us pay for a large revert message. Callers hold the nonReentrant lock
    ///      and have finished their effects.
    function _sendToSender(uint256 amount) private {
        bool ok;
        assembly ("memory-safe") {
            ok := call(gas(), caller(), amount, 0, 0, 0, 0)
        }
        if (!ok) revert TransferFailed();
    }
}
