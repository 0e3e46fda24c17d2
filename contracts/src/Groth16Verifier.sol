// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Groth16Verifier
/// @notice A generic Groth16 verifier on BN254 that reads the verification key from memory, so one
///         contract can check proofs of many circuits. The logic is snarkjs' Solidity verifier
///         template (templates/verifier_groth16.sol.ejs) with the key's constants replaced by words.
/// @dev Key words (see contracts/src/groth16/encoding.ts): alpha1 (2), beta2 (4), gamma2 (4),
///      delta2 (4), IC[0..n] (2 each), 14 + 2(n + 1) words for n public signals. G2 points are
///      [x1, x0, y1, y0] (imaginary part first, as EIP-197's pairing precompile wants them).
///      Proof words: A (2), B (4, same G2 order), C (2), as snarkjs' exportSolidityCallData prints.
///
///      Gas under Istanbul rules (EIP-1108): per public signal one ecMul (6000) and one ecAdd (150),
///      then one pairing of 4 pairs (45000 + 4 × 34000 = 181000): 193.3k for 2 signals, plus ~1k for
///      the field checks and memory.
///
///      Soundness needs every public signal below r: the precompile multiplies modulo the group
///      order, so `s + r` would verify wherever `s` does. Every coordinate must be below q, or a
///      point could be given under two encodings. A precompile that fails (a point off the curve,
///      out of gas) makes the proof invalid: the functions return false and never revert.
library Groth16Verifier {
    /// @dev BN254's scalar field r.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev BN254's base field q.
    uint256 internal constant BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev alpha1, beta2, gamma2, delta2.
    uint256 internal constant KEY_FIXED_WORDS = 14;

    /// @notice Length in bytes of a key for `publicSignals` public signals.
    function keyLength(uint256 publicSignals) internal pure returns (uint256) {
        return (KEY_FIXED_WORDS + 2 * (publicSignals + 1)) * 32;
    }

    /// @notice Whether `key` is a key for exactly `publicSignals` signals with every coordinate below q.
    /// @dev Checks encodings only; a point off the curve makes every proof under the key fail.
    function isWellFormedKey(bytes memory key, uint256 publicSignals) internal pure returns (bool) {
        return key.length == keyLength(publicSignals) && _wordsBelow(key, BASE_FIELD);
    }

    /// @notice Checks `proof` for `publicSignals` under `key`. Never reverts on bad input: false.
    function verify(bytes memory key, uint256[8] memory proof, uint256[] memory publicSignals)
        internal
        view
        returns (bool)
    {
        return isWellFormedKey(key, publicSignals.length) && verifyUnderWellFormedKey(key, proof, publicSignals);
    }

    /// @notice `verify` for a key already known to pass isWellFormedKey for publicSignals.length
    ///         signals, e.g. one checked when it was stored where nothing can change it. Skipping the
    ///         20 key-word checks saves ~0.9k gas per call.
    function verifyUnderWellFormedKey(bytes memory key, uint256[8] memory proof, uint256[] memory publicSignals)
        internal
        view
        returns (bool valid)
    {
        uint256 n = publicSignals.length;
        assembly ("memory-safe") {
            // Field checks, branch-free: a signal >= r or a coordinate >= q makes the proof invalid.
            valid := and(
                and(and(lt(mload(proof), BASE_FIELD), lt(mload(add(proof, 0x20)), BASE_FIELD)),
                    and(lt(mload(add(proof, 0x40)), BASE_FIELD), lt(mload(add(proof, 0x60)), BASE_FIELD))),
                and(and(lt(mload(add(proof, 0x80)), BASE_FIELD), lt(mload(add(proof, 0xa0)), BASE_FIELD)),
                    and(lt(mload(add(proof, 0xc0)), BASE_FIELD), lt(mload(add(proof, 0xe0)), BASE_FIELD)))
            )
            let signals := add(publicSignals, 0x20)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                valid := and(valid, lt(mload(add(signals, mul(i, 0x20))), SNARK_SCALAR_FIELD))
            }

            // Scratch space past the free memory pointer, never allocated: 24 words of pairing input,
            // then vk_x (2 words) and the ecMul/ecAdd buffer (4 words).
            let k := add(key, 0x20)
            let m := mload(0x40)
            let acc := add(m, 768)
            let buf := add(m, 832)

            // vk_x = IC[0] + sum(publicSignals[i] * IC[i + 1])
            mstore(acc, mload(add(k, 448)))
            mstore(add(acc, 0x20), mload(add(k, 480)))
            for { let i := 0 } and(valid, lt(i, n)) { i := add(i, 1) } {
                let ic := add(k, add(512, mul(i, 64)))
                mstore(buf, mload(ic))
                mstore(add(buf, 0x20), mload(add(ic, 0x20)))
                mstore(add(buf, 0x40), mload(add(signals, mul(i, 0x20))))
                valid := staticcall(gas(), 0x07, buf, 0x60, buf, 0x40)
                if valid {
                    mstore(add(buf, 0x40), mload(acc))
                    mstore(add(buf, 0x60), mload(add(acc, 0x20)))
                    valid := staticcall(gas(), 0x06, buf, 0x80, acc, 0x40)
                }
            }

            // e(-A, B) · e(alpha1, beta2) · e(vk_x, gamma2) · e(C, delta2) == 1, the pairs laid out as
            // in snarkjs' template. Unrolled: a copy loop costs ~2.5× as much per word.
            if valid {
                mstore(m, mload(proof))
                mstore(add(m, 0x20), mod(sub(BASE_FIELD, mload(add(proof, 0x20))), BASE_FIELD))
                mstore(add(m, 0x40), mload(add(proof, 0x40)))
                mstore(add(m, 0x60), mload(add(proof, 0x60)))
                mstore(add(m, 0x80), mload(add(proof, 0x80)))
                mstore(add(m, 0xa0), mload(add(proof, 0xa0)))
                // alpha1, beta2: key words 0..5
                mstore(add(m, 0xc0), mload(k))
                mstore(add(m, 0xe0), mload(add(k, 0x20)))
                mstore(add(m, 0x100), mload(add(k, 0x40)))
                mstore(add(m, 0x120), mload(add(k, 0x60)))
                mstore(add(m, 0x140), mload(add(k, 0x80)))
                mstore(add(m, 0x160), mload(add(k, 0xa0)))
                mstore(add(m, 0x180), mload(acc))
                mstore(add(m, 0x1a0), mload(add(acc, 0x20)))
                // gamma2: key words 6..9
                mstore(add(m, 0x1c0), mload(add(k, 0xc0)))
                mstore(add(m, 0x1e0), mload(add(k, 0xe0)))
                mstore(add(m, 0x200), mload(add(k, 0x100)))
                mstore(add(m, 0x220), mload(add(k, 0x120)))
                mstore(add(m, 0x240), mload(add(proof, 0xc0)))
                mstore(add(m, 0x260), mload(add(proof, 0xe0)))
                // delta2: key words 10..13
                mstore(add(m, 0x280), mload(add(k, 0x140)))
                mstore(add(m, 0x2a0), mload(add(k, 0x160)))
                mstore(add(m, 0x2c0), mload(add(k, 0x180)))
                mstore(add(m, 0x2e0), mload(add(k, 0x1a0)))
                // Two statements: Yul evaluates arguments right to left, so and(staticcall(..), mload(m))
                // would read the output before the call writes it.
                valid := staticcall(gas(), 0x08, m, 768, m, 0x20)
                valid := and(valid, eq(mload(m), 1))
            }
        }
    }

    /// @dev Whether every 32-byte word of `data` (a whole number of words) is below `bound`.
    function _wordsBelow(bytes memory data, uint256 bound) private pure returns (bool below) {
        if (data.length % 32 != 0) return false;
        assembly ("memory-safe") {
            below := 1
            let end := add(add(data, 0x20), mload(data))
            for { let p := add(data, 0x20) } lt(p, end) { p := add(p, 0x20) } {
                if iszero(lt(mload(p), bound)) {
                    below := 0
                    break
                }
            }
        }
    }
}
