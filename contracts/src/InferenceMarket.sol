// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Groth16Verifier} from "./Groth16Verifier.sol";

/// @title InferenceMarket
/// @notice Verified inference: a model owner lists a model with its Groth16 verification key and a
///         price; a buyer pays for one inference on a private input it committed to; the owner is paid
///         only by answering with a proof that the chain checks. Native coin only (SHM on Shardeum).
/// @dev The statement: every proof is checked against the public signals [output, inputCommitment],
///      in this order (circom puts outputs first, then public inputs). `output` is the answer (the
///      predicted class); `inputCommitment` is the buyer's Poseidon commitment to its input and a salt,
///      an opaque field element to this contract. The contract builds the vector itself from the
///      request's stored commitment and the claimed output, so a proof answers one request only, and
///      a commitment is accepted once per contract, so no later request can reuse an answered one.
///
///      Keys are stored SSTORE2-style: listing CREATEs a data contract whose code is a STOP byte and
///      the 640 key bytes; fulfil reads them back with one EXTCODECOPY (Istanbul: 700 + 3 per word,
///      ~0.8k for 20 words) where 20 SLOADs would cost 16k and key calldata ~10k per call, and buyers
///      trust one audited verifier instead of a per-model generated one (~570k gas to deploy, code
///      chosen by the owner).
///
///      Lifecycle of a request: None -> Open -> (Fulfilled | Refunded). Open requests' prices are the
///      only money held: address(this).balance == accountedBalance() after every transaction. Value is
///      only ever sent to msg.sender (the owner on fulfil, the buyer on refund), after every state
///      change, under nonReentrant.
contract InferenceMarket is ReentrancyGuard {
    // ------------------------------------------------------------------------------------------
    // Types and storage
    // ------------------------------------------------------------------------------------------

    /// @dev The ABI encodes this enum as uint8: 0 None, 1 Open, 2 Fulfilled, 3 Refunded.
    enum RequestStatus {
        None,
        Open,
        Fulfilled,
        Refunded
    }

    /// @dev Four slots; fulfil reads slots 0 and 1 and writes slot 0 (the fulfilled count).
    struct Model {
        // slot 0
        address owner;
        bool active;
        uint64 fulfilled;
        // slot 1
        address keyPointer; // the data contract holding the key bytes after a STOP byte
        uint96 price;
        // slots 2 and 3
        bytes32 verificationKeyHash;
        bytes32 metadataHash;
    }

    /// @dev Four slots; the request writes slots 0-2, fulfil slot 0 (status) and slot 3 (output).
    struct Request {
        // slot 0
        address buyer;
        uint64 modelId;
        RequestStatus status;
        // slot 1
        uint96 price; // what the buyer paid, held until fulfil or refund
        uint64 deadline;
        // slots 2 and 3
        uint256 inputCommitment;
        uint256 output;
    }

    /// @dev Two slots.
    struct Anchor {
        uint64 modelId;
        uint32 count;
        uint64 anchoredAt;
        bytes32 root;
    }

    /// @notice Every key encodes exactly these public signals: [output, inputCommitment].
    uint256 public constant PUBLIC_SIGNALS = 2;
    /// @notice Bytes of a verification key: (14 + 2 × 3) words.
    uint256 public constant KEY_LENGTH = 640;

    /// @notice Seconds a request stays open for the owner to answer; afterwards the buyer may refund.
    uint64 public immutable requestTimeout;

    /// @notice Ids handed out so far: models, requests and anchors are numbered 1, 2, …
    uint256 public modelCount;
    uint256 public requestCount;
    uint256 public anchorCount;

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 requestId => Request) private _requests;
    mapping(uint256 anchorId => Anchor) private _anchors;

    /// @notice The request that used a commitment (0 if none): each commitment is accepted once.
    mapping(uint256 inputCommitment => uint256 requestId) public requestOfCommitment;

    /// @dev Sum of the prices of Open requests.
    uint256 private _totalEscrow;

    // ------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------

    event ModelListed(
        uint256 indexed modelId,
        address indexed owner,
        uint256 price,
        bytes32 verificationKeyHash,
        address keyPointer,
        bytes32 metadataHash
    );
    event ModelPriceChanged(uint256 indexed modelId, uint256 price);
    event ModelActiveChanged(uint256 indexed modelId, bool active);
    event InferenceRequested(
        uint256 indexed requestId,
        uint256 indexed modelId,
        address indexed buyer,
        uint256 inputCommitment,
        uint256 price,
        uint64 deadline
    );
    event InferenceFulfilled(uint256 indexed requestId, uint256 indexed modelId, uint256 output, bytes32 proofHash);
    event InferenceRefunded(uint256 indexed requestId, address indexed buyer, uint256 amount);
    event ProofsAnchored(uint256 indexed anchorId, uint256 indexed modelId, bytes32 root, uint32 count);

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    /// @dev the key is not 640 bytes (2 public signals) of coordinates below q.
    error InvalidVerificationKey();
    error KeyStorageFailed();
    error UnknownModel();
    error NotModelOwner();
    error ModelInactive();
    error AmountTooLarge();
    /// @param price what the model charges; msg.value must equal it
    error WrongPayment(uint256 price);
    /// @dev the commitment is not a field element below r, so no proof could ever match it.
    error CommitmentOutOfField();
    /// @param requestId the request that already used this commitment
    error CommitmentUsed(uint256 requestId);
    error UnknownRequest();
    /// @param status the request's current status (see RequestStatus)
    error WrongStatus(uint8 status);
    error NotBuyer();
    /// @param deadline the request's deadline, already passed: the buyer may refund
    error RequestExpired(uint64 deadline);
    /// @param deadline refunds open after it
    error NotExpired(uint64 deadline);
    error InvalidProof();
    error EmptyAnchor();
    error TransferFailed();

    /// @param requestTimeout_ seconds an owner has to answer a request before the buyer may refund
    constructor(uint64 requestTimeout_) {
        requestTimeout = requestTimeout_;
    }

    // ------------------------------------------------------------------------------------------
    // Models
    // ------------------------------------------------------------------------------------------

    /// @notice Lists a model owned by msg.sender, active at once.
    /// @param verificationKey the key's words (see Groth16Verifier): 2 public signals, 640 bytes
    /// @param metadataHash e.g. a digest of the model card's CID, for the record
    function listModel(bytes calldata verificationKey, uint256 price, bytes32 metadataHash)
        external
        returns (uint256 modelId)
    {
        if (!Groth16Verifier.isWellFormedKey(verificationKey, PUBLIC_SIGNALS)) revert InvalidVerificationKey();
        if (price > type(uint96).max) revert AmountTooLarge();
        address keyPointer = _storeKey(verificationKey);
        bytes32 keyHash = keccak256(verificationKey);

        modelId = ++modelCount;
        Model storage model = _models[modelId];
        model.owner = msg.sender;
        model.active = true;
        model.keyPointer = keyPointer;
        model.price = uint96(price);
        model.verificationKeyHash = keyHash;
        model.metadataHash = metadataHash;

        emit ModelListed(modelId, msg.sender, price, keyHash, keyPointer, metadataHash);
    }

    /// @notice New requests pay the new price; open ones keep what they paid.
    function setPrice(uint256 modelId, uint256 price) external {
        Model storage model = _ownedModel(modelId);
        if (price > type(uint96).max) revert AmountTooLarge();
        model.price = uint96(price);
        emit ModelPriceChanged(modelId, price);
    }

    /// @notice An inactive model takes no new requests; open ones may still be fulfilled or refunded.
    function setActive(uint256 modelId, bool active) external {
        Model storage model = _ownedModel(modelId);
        model.active = active;
        emit ModelActiveChanged(modelId, active);
    }

    // ------------------------------------------------------------------------------------------
    // Requests
    // ------------------------------------------------------------------------------------------

    /// @notice Pays for one inference of `modelId` on the input behind `inputCommitment`.
    /// @param inputCommitment Poseidon(input, salt) as the circuit computes it; never used before here
    function requestInference(uint256 modelId, uint256 inputCommitment) external payable returns (uint256 requestId) {
        Model storage model = _models[modelId];
        if (model.owner == address(0)) revert UnknownModel();
        if (!model.active) revert ModelInactive();
        uint96 price = model.price;
        if (msg.value != price) revert WrongPayment(price);
        if (inputCommitment >= Groth16Verifier.SNARK_SCALAR_FIELD) revert CommitmentOutOfField();
        uint256 previous = requestOfCommitment[inputCommitment];
        if (previous != 0) revert CommitmentUsed(previous);

        requestId = ++requestCount;
        uint64 deadline = uint64(block.timestamp) + requestTimeout;
        Request storage request = _requests[requestId];
        request.buyer = msg.sender;
        request.modelId = uint64(modelId);
        request.status = RequestStatus.Open;
        request.price = price;
        request.deadline = deadline;
        request.inputCommitment = inputCommitment;
        requestOfCommitment[inputCommitment] = requestId;
        _totalEscrow += price;

        emit InferenceRequested(requestId, modelId, msg.sender, inputCommitment, price, deadline);
    }

    /// @notice The model's owner answers an open request by its deadline and is paid its price.
    /// @dev Checks in this order: unknown request, status, caller, deadline, proof.
    /// @param proof the proof's 8 words (encodeProof in contracts/src/groth16/encoding.ts)
    function fulfil(uint256 requestId, uint256 output, uint256[8] calldata proof) external nonReentrant {
        Request storage request = _requests[requestId];
        RequestStatus status = request.status;
        if (status == RequestStatus.None) revert UnknownRequest();
        if (status != RequestStatus.Open) revert WrongStatus(uint8(status));
        uint256 modelId = request.modelId;
        Model storage model = _models[modelId];
        if (msg.sender != model.owner) revert NotModelOwner();
        uint64 deadline = request.deadline;
        if (block.timestamp > deadline) revert RequestExpired(deadline);
        if (!_verify(model.keyPointer, request.inputCommitment, output, proof)) revert InvalidProof();

        uint96 price = request.price;
        request.status = RequestStatus.Fulfilled;
        request.output = output;
        unchecked {
            // at most one fulfilment per request: 2^64 of them would cost more gas than exists
            ++model.fulfilled;
            // price was added to _totalEscrow when the request opened and is taken out once
            _totalEscrow -= price;
        }

        emit InferenceFulfilled(requestId, modelId, output, keccak256(abi.encodePacked(proof)));
        _sendToSender(price);
    }

    /// @notice The buyer takes the price back from a request nobody answered by its deadline.
    /// @dev Checks in this order: unknown request, status, caller, deadline.
    function refund(uint256 requestId) external nonReentrant {
        Request storage request = _requests[requestId];
        RequestStatus status = request.status;
        if (status == RequestStatus.None) revert UnknownRequest();
        if (status != RequestStatus.Open) revert WrongStatus(uint8(status));
        if (msg.sender != request.buyer) revert NotBuyer();
        uint64 deadline = request.deadline;
        if (block.timestamp <= deadline) revert NotExpired(deadline);

        uint96 price = request.price;
        request.status = RequestStatus.Refunded;
        unchecked {
            _totalEscrow -= price;
        }

        emit InferenceRefunded(requestId, msg.sender, price);
        _sendToSender(price);
    }

    // ------------------------------------------------------------------------------------------
    // Anchoring: proofs checked off chain, committed in bulk
    // ------------------------------------------------------------------------------------------

    /// @notice The owner commits to a batch of inferences whose proofs were verified off chain.
    /// @param root root of an OpenZeppelin StandardMerkleTree over
    ///        (uint256 modelId, uint256 inputCommitment, uint256 output, bytes32 proofHash) leaves
    /// @param count number of leaves, for indexers
    function anchorProofs(uint256 modelId, bytes32 root, uint32 count) external returns (uint256 anchorId) {
        _ownedModel(modelId);
        if (root == bytes32(0) || count == 0) revert EmptyAnchor();
        anchorId = ++anchorCount;
        _anchors[anchorId] =
            Anchor({modelId: uint64(modelId), count: count, anchoredAt: uint64(block.timestamp), root: root});
        emit ProofsAnchored(anchorId, modelId, root, count);
    }

    /// @notice Whether the inference is a leaf of the anchor's tree (false for an unknown anchor).
    function isAnchored(
        uint256 anchorId,
        uint256 modelId,
        uint256 inputCommitment,
        uint256 output,
        bytes32 proofHash,
        bytes32[] calldata merkleProof
    ) external view returns (bool) {
        Anchor storage anchor = _anchors[anchorId];
        bytes32 root = anchor.root;
        if (root == bytes32(0) || anchor.modelId != modelId) return false;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(modelId, inputCommitment, output, proofHash))));
        return MerkleProof.verifyCalldata(merkleProof, root, leaf);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @notice Checks a proof of [output, inputCommitment] under the model's key, as fulfil does.
    function verifyInference(uint256 modelId, uint256 inputCommitment, uint256 output, uint256[8] calldata proof)
        external
        view
        returns (bool)
    {
        address keyPointer = _models[modelId].keyPointer;
        if (keyPointer == address(0)) revert UnknownModel();
        return _verify(keyPointer, inputCommitment, output, proof);
    }

    /// @notice A model (zeros for an unknown id). owner: the lister, the only prover paid for its requests.
    function getModel(uint256 modelId)
        external
        view
        returns (
            address owner,
            uint256 price,
            bytes32 verificationKeyHash,
            address keyPointer,
            bytes32 metadataHash,
            bool active,
            uint256 fulfilled
        )
    {
        Model storage model = _models[modelId];
        return (
            model.owner,
            model.price,
            model.verificationKeyHash,
            model.keyPointer,
            model.metadataHash,
            model.active,
            model.fulfilled
        );
    }

    /// @notice The model's key bytes, as listed.
    function verificationKeyOf(uint256 modelId) external view returns (bytes memory) {
        address keyPointer = _models[modelId].keyPointer;
        if (keyPointer == address(0)) revert UnknownModel();
        return _loadKey(keyPointer);
    }

    /// @notice A request (zeros for an unknown id). status: 0 None, 1 Open, 2 Fulfilled, 3 Refunded;
    ///         output: the proven answer, 0 unless Fulfilled.
    function getRequest(uint256 requestId)
        external
        view
        returns (
            address buyer,
            uint256 modelId,
            uint256 price,
            uint256 inputCommitment,
            uint64 deadline,
            uint8 status,
            uint256 output
        )
    {
        Request storage request = _requests[requestId];
        return (
            request.buyer,
            request.modelId,
            request.price,
            request.inputCommitment,
            request.deadline,
            uint8(request.status),
            request.output
        );
    }

    function getAnchor(uint256 anchorId)
        external
        view
        returns (uint256 modelId, bytes32 root, uint32 count, uint64 anchoredAt)
    {
        Anchor storage anchor = _anchors[anchorId];
        return (anchor.modelId, anchor.root, anchor.count, anchor.anchoredAt);
    }

    /// @notice What the contract owes: the prices of Open requests. Equals its balance.
    function accountedBalance() external view returns (uint256) {
        return _totalEscrow;
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    function _ownedModel(uint256 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert UnknownModel();
        if (msg.sender != model.owner) revert NotModelOwner();
    }

    function _verify(address keyPointer, uint256 inputCommitment, uint256 output, uint256[8] calldata proof)
        private
        view
        returns (bool)
    {
        uint256[] memory publicSignals = new uint256[](PUBLIC_SIGNALS);
        publicSignals[0] = output;
        publicSignals[1] = inputCommitment;
        // The key passed isWellFormedKey when listed and its data contract cannot change.
        return Groth16Verifier.verifyUnderWellFormedKey(_loadKey(keyPointer), proof, publicSignals);
    }

    /// @dev CREATEs a contract whose code is 0x00 (STOP, so calling it does nothing) followed by the
    ///      key. Init code (10 bytes): PUSH2 size, DUP1, PUSH1 10, RETURNDATASIZE (0), CODECOPY,
    ///      RETURNDATASIZE (0), RETURN: copies what follows it and returns it as the code.
    function _storeKey(bytes calldata key) private returns (address pointer) {
        bytes memory initCode = abi.encodePacked(hex"61", uint16(key.length + 1), hex"80600a3d393df3", hex"00", key);
        assembly ("memory-safe") {
            pointer := create(0, add(initCode, 0x20), mload(initCode))
        }
        if (pointer == address(0)) revert KeyStorageFailed();
    }

    /// @dev The key bytes, skipping the STOP byte. Every stored key is KEY_LENGTH bytes long.
    function _loadKey(address pointer) private view returns (bytes memory key) {
        key = new bytes(KEY_LENGTH);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(key, 0x20), 1, KEY_LENGTH)
        }
    }

    function _sendToSender(uint256 amount) private {
        if (amount == 0) return;
        (bool sent,) = msg.sender.call{value: amount}("");
        if (!sent) revert TransferFailed();
    }
}
