// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title Offshift escrow: buyers lock tokens, providers redeem the buyers' EIP-712 vouchers.
/// @notice A voucher carries a cumulative amount for one (buyer, provider, jobId). Redeeming it
/// pays the difference between that amount and what this escrow already paid for the same
/// triple, so a voucher can be submitted by anyone, any number of times, and never pays twice.
/// A `Voucher` pays the provider; a `PayeeVoucher` pays the payee it names (a studio's team
/// wallet, a hardware wallet, a multisig), so the key that signs the provider's work never holds
/// its earnings. Both kinds share one channel per triple: a buyer never pays a job twice by
/// signing both. A buyer takes unspent funds back only after a notice period, which gives
/// providers time to redeem what they were promised.
contract OffshiftEscrow is EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    struct Voucher {
        address buyer;
        address provider;
        bytes32 jobId;
        uint256 cumulativeAmount;
        uint64 expiry;
    }

    /// A voucher whose money goes to `payee` rather than to the provider.
    struct PayeeVoucher {
        address buyer;
        address provider;
        address payee;
        bytes32 jobId;
        uint256 cumulativeAmount;
        uint64 expiry;
    }

    struct WithdrawalRequest {
        uint256 amount;
        uint64 availableAt;
    }

    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address buyer,address provider,bytes32 jobId,uint256 cumulativeAmount,uint64 expiry)");

    bytes32 public constant PAYEE_VOUCHER_TYPEHASH = keccak256(
        "PayeeVoucher(address buyer,address provider,address payee,bytes32 jobId,uint256 cumulativeAmount,uint64 expiry)"
    );

    IERC20 public immutable token;
    uint64 public immutable noticePeriod;

    /// Tokens each buyer holds here (including any amount requested for withdrawal).
    mapping(address buyer => uint256) public deposits;
    /// What was paid so far, keyed by keccak256(abi.encode(buyer, provider, jobId)).
    mapping(bytes32 channel => uint256) private _paid;
    mapping(address buyer => WithdrawalRequest) public withdrawalRequests;

    event Deposited(address indexed buyer, uint256 amount, uint256 balance);
    event Redeemed(
        address indexed buyer, address indexed provider, bytes32 indexed jobId, uint256 amount, uint256 cumulative
    );
    /// Emitted with `Redeemed` when a PayeeVoucher is redeemed: where the money went.
    event PaidTo(
        address indexed buyer, address indexed provider, bytes32 indexed jobId, address payee, uint256 amount
    );
    event WithdrawRequested(address indexed buyer, uint256 amount, uint64 availableAt);
    event Withdrawn(address indexed buyer, uint256 amount);

    error ZeroAmount();
    error VoucherExpired(uint64 expiry, uint256 now_);
    error InvalidSignature(address signer, address buyer);
    error AlreadyRedeemed(uint256 cumulativeAmount, uint256 alreadyPaid);
    error InsufficientDeposit(uint256 available, uint256 needed);
    error NoWithdrawalRequested();
    error NoticePeriodNotOver(uint64 availableAt);
    error ZeroProvider();
    error ZeroPayee();

    constructor(IERC20 token_, uint64 noticePeriod_) EIP712("OffshiftEscrow", "1") {
        token = token_;
        noticePeriod = noticePeriod_;
    }

    /// Locks `amount` tokens of the caller (approve first).
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        deposits[msg.sender] += amount;
        emit Deposited(msg.sender, amount, deposits[msg.sender]);
    }

    /// Pays the provider what the voucher promises beyond what was already paid for its job.
    function redeem(Voucher calldata voucher, bytes calldata signature) external nonReentrant returns (uint256 amount) {
        if (voucher.provider == address(0)) revert ZeroProvider();
        bytes32 digest = _hashTypedDataV4(hashVoucher(voucher));
        amount = _settle(voucher.buyer, voucher.provider, voucher.jobId, voucher.cumulativeAmount, voucher.expiry, digest, signature);
        token.safeTransfer(voucher.provider, amount);
    }

    /// Pays the voucher's payee what it promises beyond what was already paid for its job,
    /// whoever submits it: the provider's key cannot send the money anywhere else.
    function redeemToPayee(PayeeVoucher calldata voucher, bytes calldata signature)
        external
        nonReentrant
        returns (uint256 amount)
    {
        if (voucher.provider == address(0)) revert ZeroProvider();
        if (voucher.payee == address(0)) revert ZeroPayee();
        bytes32 digest = _hashTypedDataV4(hashPayeeVoucher(voucher));
        amount = _settle(voucher.buyer, voucher.provider, voucher.jobId, voucher.cumulativeAmount, voucher.expiry, digest, signature);
        emit PaidTo(voucher.buyer, voucher.provider, voucher.jobId, voucher.payee, amount);
        token.safeTransfer(voucher.payee, amount);
    }

    /// The checks and bookkeeping both kinds of voucher share; returns what to pay.
    function _settle(
        address buyer,
        address provider,
        bytes32 jobId,
        uint256 cumulativeAmount,
        uint64 expiry,
        bytes32 digest,
        bytes calldata signature
    ) private returns (uint256 amount) {
        if (expiry < block.timestamp) revert VoucherExpired(expiry, block.timestamp);
        address signer = ECDSA.recover(digest, signature);
        if (signer != buyer) revert InvalidSignature(signer, buyer);
        bytes32 channel = channelOf(buyer, provider, jobId);
        uint256 alreadyPaid = _paid[channel];
        if (cumulativeAmount <= alreadyPaid) revert AlreadyRedeemed(cumulativeAmount, alreadyPaid);
        amount = cumulativeAmount - alreadyPaid;
        uint256 available = deposits[buyer];
        if (amount > available) revert InsufficientDeposit(available, amount);
        deposits[buyer] = available - amount;
        _paid[channel] = cumulativeAmount;
        emit Redeemed(buyer, provider, jobId, amount, cumulativeAmount);
    }

    /// Starts the notice period for taking `amount` back; providers may still redeem meanwhile.
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 available = deposits[msg.sender];
        if (amount > available) revert InsufficientDeposit(available, amount);
        uint64 availableAt = uint64(block.timestamp) + noticePeriod;
        withdrawalRequests[msg.sender] = WithdrawalRequest(amount, availableAt);
        emit WithdrawRequested(msg.sender, amount, availableAt);
    }

    /// After the notice period, returns the requested amount (or what is left of the deposit).
    function withdraw() external nonReentrant returns (uint256 amount) {
        WithdrawalRequest memory request = withdrawalRequests[msg.sender];
        if (request.amount == 0) revert NoWithdrawalRequested();
        if (block.timestamp < request.availableAt) revert NoticePeriodNotOver(request.availableAt);
        delete withdrawalRequests[msg.sender];
        uint256 available = deposits[msg.sender];
        amount = request.amount < available ? request.amount : available;
        deposits[msg.sender] = available - amount;
        if (amount > 0) token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    function paid(address buyer, address provider, bytes32 jobId) external view returns (uint256) {
        return _paid[channelOf(buyer, provider, jobId)];
    }

    function channelOf(address buyer, address provider, bytes32 jobId) public pure returns (bytes32) {
        return keccak256(abi.encode(buyer, provider, jobId));
    }

    function hashVoucher(Voucher calldata voucher) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                VOUCHER_TYPEHASH,
                voucher.buyer,
                voucher.provider,
                voucher.jobId,
                voucher.cumulativeAmount,
                voucher.expiry
            )
        );
    }

    function hashPayeeVoucher(PayeeVoucher calldata voucher) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                PAYEE_VOUCHER_TYPEHASH,
                voucher.buyer,
                voucher.provider,
                voucher.payee,
                voucher.jobId,
                voucher.cumulativeAmount,
                voucher.expiry
            )
        );
    }

    /// The EIP-712 digest a buyer signs, for off-chain checks.
    function voucherDigest(Voucher calldata voucher) external view returns (bytes32) {
        return _hashTypedDataV4(hashVoucher(voucher));
    }

    function payeeVoucherDigest(PayeeVoucher calldata voucher) external view returns (bytes32) {
        return _hashTypedDataV4(hashPayeeVoucher(voucher));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
}
